"""Client for Cairn validator nodes.

Wire formats (`wire`, `records`, `blobs`), key files (`keys`) and the node's HTTP API (`api`).
Every decoder here accepts exactly the bytes the Swift node accepts, and refuses the rest with an
error naming the field and byte offset, so a trainer learns about a bad blob or record before the
network does.
"""

__version__ = "0.1.0"
