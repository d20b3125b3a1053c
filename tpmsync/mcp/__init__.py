"""`tpmsync mcp`: a read-only Model Context Protocol server over the local store (extra `tpmsync[mcp]`).

adapter.py is the only module that calls the rest of tpmsync; answers.py shapes the tool answers;
server.py registers the tools, resources and the prompt with the official `mcp` SDK.
"""
