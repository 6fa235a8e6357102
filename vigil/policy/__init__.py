"""Policy-as-code: YAML policies with CEL conditions, validated at load and evaluated per item."""
