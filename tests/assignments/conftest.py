"""Assignment fixtures: `cast`, who is who around one course's assignments, built with the shared factories."""

from __future__ import annotations

from types import SimpleNamespace

import pytest


@pytest.fixture
def cast(make_user, make_course, make_enrollment, make_assignment):
    """Who is who: `owner` teaches `course` (published) and `draft_course`; `stranger` teaches `other_course`.

    `learner` and `peer` are enrolled in `course`; `outsider` is not enrolled anywhere; `dropout` has a
    dropped enrollment. `assignment` is open to students, `draft` is not.
    """
    owner = make_user("instructor", full_name="Owen Owner")
    stranger = make_user("instructor", full_name="Stan Stranger")
    admin = make_user("admin")
    learner = make_user("student", full_name="Lea Learner")
    peer = make_user("student", full_name="Pete Peer")
    outsider = make_user("student")
    dropout = make_user("student")
    course = make_course(owner)
    draft_course = make_course(owner, published=False)
    other_course = make_course(stranger)
    return SimpleNamespace(
        owner=owner, stranger=stranger, admin=admin, learner=learner, peer=peer, outsider=outsider,
        dropout=dropout, course=course, draft_course=draft_course, other_course=other_course,
        enrollment=make_enrollment(learner, course), peer_enrollment=make_enrollment(peer, course),
        dropped_enrollment=make_enrollment(dropout, course, status="dropped"),
        assignment=make_assignment(course, title="Essay on testing"),
        draft=make_assignment(course, published=False, title="Unfinished"),
    )
