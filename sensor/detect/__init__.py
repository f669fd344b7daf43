"""Detection: signatures for dangerous OT operations and learned baselines, over every parsed protocol.

Rules and models read one table of messages (``view.Messages``) and report ``Finding``s; ``episodes``
joins findings of the same kind on the same channel into one alert that grows.
"""
