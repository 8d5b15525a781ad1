"""The claims ledger: documented figures as tracked claims, their status computed from evidence.

A claim is a figure somebody published ("cold start ≤ 6 ms", "3000 pods per node"), with its
source, the target and environment it was made for, and the date it was collected. The ledger
reads claims, platform facts and consistency rules from ``claims/*.yaml`` (:mod:`.files`),
checks each case's claims against the facts before anything is measured (:mod:`.consistency`),
and computes each claim's status from the records of past runs (:mod:`.lifecycle`).
"""
