"""``pgcrisis mitigate``: from findings to a calmer server, one explicit step at a time.

The domain is pure: :mod:`.playbook` turns a triage report into ordered steps (root blockers
first: what unblocks most), each an action of the catalogue (:mod:`pgcrisis.actions`: the
change as SQL, its risk and its undo; alike ones merged), :mod:`.changes` compares two
reports. What touches a server lives apart, in :mod:`.apply` (runs steps through the
journaled :func:`pgcrisis.journal.apply_action`, reads a role's settings first so the change
can be undone) and :mod:`.service` (connect, triage, build, apply, triage again).
"""
