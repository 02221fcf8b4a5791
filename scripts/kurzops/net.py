"""Ports on 127.0.0.1."""
import socket


def free_port(host="127.0.0.1"):
    """A TCP port that is free on `host` now (the kernel picks it). Another process may take it
    before the caller binds it: where a server can listen on port 0 and tell its port, prefer that."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]
