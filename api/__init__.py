"""HTTP/WebSocket API of Skynet and the command-centre wall display."""
