"""Step 9: mitigation that keeps real refusals — a condition that tells harmful from overrefused
prompts, global and conditional steering, the sweep that shows the trade-off, and exports for
training elsewhere."""
