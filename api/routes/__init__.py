"""One router per domain (mirroring ``contracts/``), plus auth, requests, documents, applications and public."""
