"""TAK (ATAK, iTAK, WinTAK): CoT events in over TCP and TLS, the incident's anchors out.

    device ──CoT XML / TAK protocol v1──> listener.py (per-connection framing, limits)
                                             │ stream.py: frames   cot.py: CotEvent
                                             │ position.py: registered uid → Fix
                                             └─> PositionPipeline.ingest (as every fix)
    event log (anchor.*) ──bridge.py, by seq──> shapes.py (CoT drawings, markers) ──> device

limits.py holds every bound these modules enforce (docs/protocol-additions.md, "TAK").
"""
