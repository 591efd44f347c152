"""Notes: a per-user resource behind authentication, for the frontend to call across origins."""
