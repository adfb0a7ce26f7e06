"""Publish a dataset folder to the Hugging Face Hub.

:func:`plan_push` checks the folder and lists what would be uploaded (no network), and
:func:`push_dataset` commits that plan to a dataset repository.
"""

from lrsgro.publish.hub import PushResult, check_repo_id, push_dataset
from lrsgro.publish.plan import PlannedFile, PushPlan, plan_push

__all__ = ["PlannedFile", "PushPlan", "PushResult", "check_repo_id", "plan_push", "push_dataset"]
