"""Emergency plans: what a version's files may be (files), where a plan applies and how its
title is searched (find). The writers are in hub/actions/plans.py."""
