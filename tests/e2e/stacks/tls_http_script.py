"""What the TLS/HTTP stack run does, shared by its server, its client and the test."""
from __future__ import annotations

SERVER_IP, CLIENT_IP = "127.0.0.51", "127.0.0.52"
SERVER_HEADER = "Siemens S7-1200 web server/4.5"  # what http.server announces (its version_string)
USER_AGENT = "PlantHistorian/7.2 (engineering station)"
HTTP_HOST = "hmi-web.plant.example"  # the Host header the client sends on port 80
SNI = "plc-gateway.plant.example"  # the name the TLS client asks for
CERT_CN = "plc-gateway.plant.example"
CERT_ORG = "Example Automation"
CERT_SAN = ("plc-gateway.plant.example", "opc.plant.example", "*.plant.example")
