"""`vigil demo`: a simulated messaging platform that posts to Vigil, so a newcomer can watch it work."""
