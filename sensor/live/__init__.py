"""``otsensor live``: the SPAN-port appliance. A receive-only capture (capture.py) feeds the same pipeline as
``analyze``; health.py logs the sensor's vital signs, config.py reads the YAML config, command.py is the command.
"""
