"""Small, explainable anomaly models on numpy and scikit-learn.

Each model is fitted from plain arrays or keys, saves itself as JSON-able data (``to_dict``/``from_dict``)
that a person can read and edit, and says why something does not fit (what it expected, what it saw).
Nothing here knows packets, protocols or the sensor: ``sensor.detect`` feeds the models.
"""
