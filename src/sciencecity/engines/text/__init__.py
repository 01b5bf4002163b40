"""Text engine: Chinese/English tokenisation, BM25 index with filters and explanations, affinity.

Shared by tech-transfer matching (achievements ↔ demands) and expert affinity. Pure Python
(numpy, scipy, rjieba); no Django.
"""

from .affinity import AffinityResult, affinity_scores
from .embed import Embedder, load_embedder, model_id
from .explain import Explanation, MeaningMatch, TermMatch, highlight
from .feedback import FeedbackEvent, FeedbackLabel, FeedbackProfile, feedback_profile, rerank
from .fusion import Fusion, fit_fusion, load_fusion
from .index import Filter, Hit, Listing, QueryTerm, TextIndex
from .quality import LabelledQuery, Quality, evaluate
from .synonyms import SynonymTable
from .tokenize import Tokenizer, default_tokenizer, normalize

__all__ = [
    "AffinityResult",
    "Embedder",
    "Explanation",
    "FeedbackEvent",
    "FeedbackLabel",
    "FeedbackProfile",
    "Filter",
    "Fusion",
    "Hit",
    "LabelledQuery",
    "Listing",
    "MeaningMatch",
    "Quality",
    "QueryTerm",
    "SynonymTable",
    "TermMatch",
    "TextIndex",
    "Tokenizer",
    "affinity_scores",
    "default_tokenizer",
    "evaluate",
    "fit_fusion",
    "feedback_profile",
    "highlight",
    "load_embedder",
    "load_fusion",
    "model_id",
    "normalize",
    "rerank",
]
