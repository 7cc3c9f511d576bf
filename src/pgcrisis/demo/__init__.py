"""``pgcrisis demo``: the seed incident's causes, made of the lab's scenarios
(:mod:`pgcrisis.lab`) in :mod:`.incident`, and the orchestration that replays, diagnoses,
fixes and measures them (:mod:`.service`), with the recording made meanwhile
(:mod:`.recording`) and the write-up (:mod:`.writeup`).
"""
