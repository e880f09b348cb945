"""Writes to GMP records. Each function checks permission, validates, and writes its trail
context in the same transaction (`carnk_mfg.audit.gmp_write`)."""
