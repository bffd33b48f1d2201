"""Oracles: equipment readings become signed, relayed, on-chain measurement reports.

``readers`` parses and validates the files evaluation equipment or a BMS exports, ``journal`` remembers what was
signed and submitted (so a file submitted twice is recorded once), ``signer`` signs with the device key (EIP-712),
``submitter`` sends batches through a relayer with retries, ``watch`` processes a folder as files arrive.
"""
