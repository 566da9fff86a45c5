"""The offline router: ranks skills by BM25 relevance of the input to names and descriptions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import bm25s
import numpy as np
import Stemmer
from pydantic import Field

from routelens.routers.base import RouteRequest, RouteResult
from routelens.routers.options import STRICT
from routelens.suite.models import Skill, SkillSet

LOCAL_ROUTER_NAME = "local"
LOCAL_MODEL_NAME = "bm25"


@dataclass(frozen=True)
class LocalRouterSettings:
    """Tuning for the local router.

    `ambiguity_ratio`: ask which skill is meant when the runner-up scores at least this share of
    the top score. `max_options`: how many skills a clarifying question names.
    """

    ambiguity_ratio: Annotated[float, STRICT, Field(gt=0, le=1)] = 0.8
    max_options: Annotated[int, STRICT, Field(ge=2)] = 3
    name_weight: Annotated[int, STRICT, Field(ge=1)] = 2


def _skill_document(skill: Skill, name_weight: int) -> str:
    names = " ".join(sorted(skill.aliases)).replace("-", " ")
    triggers = skill.metadata.get("triggers")
    trigger_text = " ".join(str(t) for t in triggers) if isinstance(triggers, list) else ""
    return " ".join([names] * name_weight + [skill.description, trigger_text])


class _SkillIndex:
    """A BM25 index over one skills set (built once per set, reused by every attempt)."""

    def __init__(self, skills: SkillSet, name_weight: int) -> None:
        self.skills = skills
        self.stemmer = Stemmer.Stemmer("english")
        documents = [_skill_document(skill, name_weight) for skill in skills.skills]
        tokens = bm25s.tokenize(
            documents, stopwords="en", stemmer=self.stemmer, show_progress=False
        )
        self.retriever = bm25s.BM25()
        self.retriever.index(tokens, show_progress=False)

    def scores(self, text: str) -> np.ndarray:
        query = bm25s.tokenize(
            [text], stopwords="en", stemmer=self.stemmer, return_ids=False, show_progress=False
        )[0]
        vocabulary = self.retriever.vocab_dict
        known = [token for token in query if token in vocabulary]
        if not known:
            return np.zeros(len(self.skills.skills))
        return np.asarray(self.retriever.get_scores(known), dtype=float)


class LocalRouter:
    """Deterministic, offline, free: a lexical stand-in for a model, good for CI smoke runs.

    >>> router = LocalRouter()  # then: await router.route(request)
    """

    name = LOCAL_ROUTER_NAME

    def __init__(self, settings: LocalRouterSettings | None = None, model: str | None = None):
        self.settings = settings or LocalRouterSettings()
        self.model: str | None = model or LOCAL_MODEL_NAME
        self._indexes: dict[str, _SkillIndex] = {}

    def _index(self, skills: SkillSet) -> _SkillIndex:
        index = self._indexes.get(skills.skills_hash)
        if index is None:
            index = _SkillIndex(skills, self.settings.name_weight)
            self._indexes[skills.skills_hash] = index
        return index

    async def route(self, request: RouteRequest) -> RouteResult:
        """Pick the best-scoring skill, or ask when nothing matches or the top two are close."""
        return self.route_now(request)

    def route_now(self, request: RouteRequest) -> RouteResult:
        """The synchronous core of `route`."""
        index = self._index(request.skills)
        scores = index.scores(request.text_with_context())
        order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
        top = float(scores[order[0]])
        if top <= 0.0:
            return RouteResult(
                skill=None,
                asked_clarification=True,
                response_text="I'm not sure what you need. Could you say more about the task?",
                confidence=0.0,
                response_model=self.model,
            )
        confidence = top / float(scores.sum())
        close = [
            i
            for i in order[: self.settings.max_options]
            if scores[i] >= self.settings.ambiguity_ratio * top
        ]
        skills = request.skills.skills
        if len(close) > 1:
            options = ", ".join(skills[i].name for i in close)
            return RouteResult(
                skill=None,
                asked_clarification=True,
                response_text=f"Which do you mean: {options}?",
                confidence=round(confidence, 6),
                response_model=self.model,
            )
        chosen = skills[order[0]].name
        return RouteResult(
            skill=chosen,
            response_text=f"Using the {chosen} skill.",
            tool_calls=(f"Skill({chosen})",),
            confidence=round(confidence, 6),
            response_model=self.model,
        )

    async def aclose(self) -> None:
        """Nothing to release."""
