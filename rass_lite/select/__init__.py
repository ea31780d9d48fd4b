"""RASS step 6: select boundary-near, diverse candidates (band, flip scale, near-duplicates, MMR with
quotas) and verify them (the target's answer, a benignness judge)."""
