"""Catalogue search runs on the shared matching engine: everyday words, Chinese or English, find the
instrument through the marketplace's tokenizer and synonym table, and each result says why it matched."""

from sciencecity.facilities import selectors
from sciencecity.facilities.models import Instrument
from tests.facilities.conftest import make_instrument


def codes(q, **filters):
    return [i.code for i in selectors.instrument_search(q=q, **filters)]


def test_everyday_words_find_the_instrument_with_the_reason(lab):
    make_instrument(lab)  # 场发射扫描电镜, capabilities 形貌 成分 EDS
    make_instrument(lab, code="BL-XRD", name="硬X射线衍射线站", name_en="Hard X-ray diffraction beamline",
                    kind="end_station", model="", capabilities="晶体结构 物相", location="")
    make_instrument(lab, code="TS-BAT-01", name="动力电池安全检测", name_en="", kind="testing_service",
                    capabilities="", accredited_scope="挤压试验 针刺试验 GB 38031", cma_number="CMA-1")
    # Neither 电子显微镜 nor "electron microscope" is written on the SEM: the shared synonym table knows them.
    for query in ("电子显微镜", "electron microscope", "想看看材料表面形貌", "测成分"):
        assert codes(query) == ["INS-SEM-01"], query
    hit = selectors.instrument_search(q="电子显微镜")[0].match
    assert "扫描电镜" in hit.shared_terms and hit.reason.startswith("Shared terms") is False  # zh by default
    assert "扫描电镜" in hit.reason and "<mark>" in hit.title_html
    assert codes("XRD 晶体") == ["BL-XRD"]
    assert codes("挤压") == ["TS-BAT-01"]
    # Filters still apply to the ranked hits; a query about nothing in the catalogue finds nothing.
    assert codes("衍射", kind="instrument") == []
    assert codes("挤压", accredited="cnas") == []
    assert codes("区块链金融") == []
    assert sorted(codes("")) == ["BL-XRD", "INS-SEM-01", "TS-BAT-01"]


def test_a_change_in_the_catalogue_shows_in_the_next_search(lab):
    sem = make_instrument(lab)
    assert codes("质谱") == []
    Instrument.objects.filter(pk=sem.pk).update(name="高分辨质谱仪", capabilities="")  # any writer, any process
    sem.refresh_from_db()
    sem.save()  # a new updated_at
    assert codes("mass spectrometer") == ["INS-SEM-01"]


def test_the_page_shows_why_an_instrument_matched(client, lab):
    make_instrument(lab)
    page = client.get("/facilities/", {"q": "electron microscope"}).content.decode()
    assert "场发射扫描电镜" in page and 'data-testid="match-reason"' in page and "扫描电镜" in page


def test_the_api_search_answers_with_the_shared_terms(client, lab):
    make_instrument(lab)
    listed = client.get("/api/facilities/instruments", {"q": "electron microscope"}).json()
    assert [i["code"] for i in listed] == ["INS-SEM-01"] and "扫描电镜" in listed[0]["shared_terms"]
    assert listed[0]["photo_url"] is None and listed[0]["qualification"] == ""
    assert client.get("/api/facilities/instruments").json()[0]["shared_terms"] == []
