"""The interview graph's nodes: small functions from state to a partial update."""
