"""hyphae's Pulumi policy pack (PulumiPolicy.yaml here; the rules in rules.py)."""
