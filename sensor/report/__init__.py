"""``otsensor report``: one self-contained HTML file (map, inventory, violations, alerts, exposure, blind spots,
what to fix first) and its Markdown summary, from the store and the policy."""
