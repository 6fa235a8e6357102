"""How media was made: C2PA manifests, IPTC digital source types, generator watermarks."""
