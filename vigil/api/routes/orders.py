"""``/v1/orders``: authorities send signed orders and read back the effect given; legal staff act on them.

An authority signs the exact request body with its Ed25519 key and sends the signature, in base64,
in the ``Vigil-Signature`` header, with its API key as the bearer token (``docs/orders.md``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from vigil.api.access import authorized
from vigil.api.auth import Principal
from vigil.api.deps import get_orders
from vigil.api.errors import ApiError
from vigil.api.inputs import Identifier, Instant
from vigil.domain.jurisdictions import GLOBAL, TerritorialScope, normalise_country
from vigil.domain.orders import (
    MAX_WITHHOLDING,
    ORDER_RULES,
    InformationField,
    OrderDocument,
    OrderEffect,
    OrderState,
    OrderTarget,
    OrderType,
    RefusalGround,
)
from vigil.domain.roles import Role
from vigil.domain.taxonomy import Category
from vigil.intake.authorities import SIGNATURE_HEADER
from vigil.intake.orders import (
    Caller,
    Clarification,
    OrderDesk,
    OrderView,
)

router = APIRouter(tags=["orders"])

MAX_TARGETS = 1000
MAX_ACCOUNTS = 100


class TargetIn(BaseModel):
    """An exact location: the platform's URL of the item, its content id, or both."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://[^\s\x00-\x1f]+$")
    content_id: Identifier | None = None

    @model_validator(mode="after")
    def _somewhere(self) -> TargetIn:
        if self.url is None and self.content_id is None:
            raise ValueError("a target needs a url or a content_id")
        return self


class OrderIn(BaseModel):
    """An order, as the authority signs it (DSA Art. 9(2), 10(2); Regulation 2021/784 Art. 3(4))."""

    model_config = ConfigDict(extra="forbid")

    authority_id: Identifier
    reference: Identifier = Field(description="the authority's own reference; one order per reference")
    type: OrderType
    issued_at: Instant
    language: str = Field(pattern=r"^[a-z]{2}$", description="ISO 639-1 language of the order")
    legal_basis: str = Field(min_length=1, max_length=500)
    statement_of_reasons: str = Field(min_length=1, max_length=5000)
    category: Category | None = Field(default=None, description="default: terrorism for tco_removal")
    territorial_scope: Literal["global"] | list[str] | None = Field(
        default=None, description="'global' or ISO countries; required for dsa_art9"
    )
    targets: list[TargetIn] = Field(default_factory=list, max_length=MAX_TARGETS)
    accounts: list[Identifier] = Field(default_factory=list, max_length=MAX_ACCOUNTS)
    information: list[InformationField] = Field(default_factory=list, max_length=len(InformationField))
    respond_by: Instant | None = None
    withhold_user_notice: bool = Field(
        default=False, description="do not inform the user yet (TCO Art. 11(3), DSA Art. 10(5))"
    )
    withhold_user_notice_until: Instant | None = Field(
        default=None,
        description="when the user may be told (TCO Art. 11(3): at most six weeks after the order is issued)",
    )
    redress: str = Field(
        default="", max_length=2000, description="the redress available; required for dsa_art9/10"
    )

    @model_validator(mode="after")
    def _elements(self) -> OrderIn:
        effect = ORDER_RULES[self.type].effect
        if effect is OrderEffect.RESTRICT and not self.targets:
            raise ValueError(f"a {self.type.value} order names the exact location of the content (targets)")
        if effect is OrderEffect.DISCLOSE and not (self.accounts and self.information):
            raise ValueError(f"a {self.type.value} order names the accounts and the information it asks for")
        if effect is OrderEffect.PRESERVE and not (self.targets or self.accounts):
            raise ValueError("a preservation order names the content (targets) or the accounts to preserve")
        if self.type is OrderType.ACT_AGAINST_CONTENT and self.territorial_scope is None:
            raise ValueError("a dsa_art9 order states its territorial scope (DSA Art. 9(2)(b))")
        if self.type in (OrderType.ACT_AGAINST_CONTENT, OrderType.PROVIDE_INFORMATION) and not self.redress:
            raise ValueError(f"a {self.type.value} order states the redress available (redress)")
        if self.withhold_user_notice_until is not None:
            if not self.withhold_user_notice:
                raise ValueError("withhold_user_notice_until needs withhold_user_notice: true")
            if self.withhold_user_notice_until <= self.issued_at:
                raise ValueError("withhold_user_notice_until must come after issued_at")
            if (
                self.type is OrderType.TERRORIST_REMOVAL
                and self.withhold_user_notice_until > self.issued_at + MAX_WITHHOLDING
            ):
                raise ValueError(
                    "a removal order withholds the user notice for six weeks at most (TCO Art. 11(3))"
                )
        if isinstance(self.territorial_scope, list):
            if not self.territorial_scope:
                raise ValueError("territorial_scope: name at least one country, or 'global'")
            self.territorial_scope = sorted({normalise_country(c) for c in self.territorial_scope})
        return self

    def document(self) -> OrderDocument:
        scope = GLOBAL
        if isinstance(self.territorial_scope, list):
            scope = TerritorialScope.of(self.territorial_scope)
        category = self.category
        if category is None and self.type is OrderType.TERRORIST_REMOVAL:
            category = Category.TERRORISM
        return OrderDocument(
            authority_id=self.authority_id,
            reference=self.reference,
            type=self.type,
            issued_at=self.issued_at,
            language=self.language,
            legal_basis=self.legal_basis,
            statement_of_reasons=self.statement_of_reasons,
            category=category,
            territorial_scope=scope,
            targets=tuple(OrderTarget(t.url, t.content_id) for t in self.targets),
            accounts=tuple(self.accounts),
            information=frozenset(self.information),
            respond_by=self.respond_by,
            withhold_user_notice=self.withhold_user_notice,
            withhold_user_notice_until=self.withhold_user_notice_until,
            redress=self.redress,
        )


class ClarificationIn(BaseModel):
    """The authority's signed answer; it names the order and the question it answers, so that the
    signed bytes are good for that question of that order only."""

    model_config = ConfigDict(extra="forbid")

    order_id: str = Field(min_length=1, max_length=100, description="the order answered (its `id`)")
    question_id: str = Field(
        min_length=1, max_length=100, description="the question answered (`clarification_question_id`)"
    )
    answer: str = Field(min_length=1, max_length=5000)
    targets: list[TargetIn] | None = Field(
        default=None, max_length=MAX_TARGETS, description="corrected locations"
    )


class ExecuteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content_ids: list[Identifier] | None = Field(
        default=None, max_length=MAX_TARGETS, description="execute these targets only (partial execution)"
    )
    note: str = Field(default="", max_length=2000, description="why, for the record and the authority")


class RefuseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ground: RefusalGround
    explanation: str = Field(min_length=1, max_length=5000)


class QuestionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=5000)


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=2000)


class OrderEventOut(BaseModel):
    at: datetime
    actor: str
    kind: str
    detail: dict[str, Any]


class OrderOut(BaseModel):
    id: str
    authority_id: str
    authority_name: str
    country: str
    reference: str
    type: OrderType
    state: OrderState
    order: dict[str, Any] = Field(description="the order as received")
    received_at: datetime
    clock_started_at: datetime = Field(description="receipt, or the arrival of the last clarification")
    deadline: datetime | None = Field(description="None while the clock is stopped for clarification")
    statutory_deadline: bool = Field(
        description="whether the deadline is the law's own (one hour for tco_removal)"
    )
    urgency: str | None
    seconds_left: int | None
    executed_at: datetime | None
    effect: dict[str, Any] | None = Field(description="what was done to each target, and the data disclosed")
    effect_confirmed_at: datetime | None = Field(description="when the platform confirmed the effect")
    refusal_ground: str | None
    refusal_explanation: str | None
    clarification_question: str | None
    clarification_question_id: str | None = Field(
        description="the open question's id, which the signed answer must name"
    )
    answered_at: datetime | None
    late: bool | None
    safeguards: dict[str, Any] | None = Field(description="legal staff only")
    senior_review: bool | None = Field(description="legal staff only")
    events: list[OrderEventOut] | None = Field(description="legal staff only")


def _out(view: OrderView, caller: Caller) -> OrderOut:
    staff = caller.role is not Role.AUTHORITY
    asked = next((e.detail for e in reversed(view.events) if e.kind == "awaiting_clarification"), None)
    waiting = asked is not None and view.state is OrderState.AWAITING_CLARIFICATION
    confirmed = next(
        (e.detail.get("effect_at") for e in view.events if e.kind == OrderState.ANSWERED.value), None
    )
    return OrderOut(
        id=view.id,
        authority_id=view.authority_id,
        authority_name=view.authority_name,
        country=view.country,
        reference=view.reference,
        type=view.type,
        state=view.state,
        order=view.document,
        received_at=view.received_at,
        clock_started_at=view.clock_started_at,
        deadline=view.deadline,
        statutory_deadline=view.statutory_deadline,
        urgency=view.urgency.value if view.urgency else None,
        seconds_left=view.seconds_left,
        executed_at=view.executed_at,
        effect=view.effect,
        effect_confirmed_at=confirmed if view.refusal_ground is None else None,
        refusal_ground=view.refusal_ground,
        refusal_explanation=view.refusal_explanation,
        clarification_question=asked.get("question") if waiting and asked else None,
        clarification_question_id=asked.get("question_id") if waiting and asked else None,
        answered_at=view.answered_at,
        late=view.late,
        safeguards=view.safeguards if staff else None,
        senior_review=view.senior_review if staff else None,
        events=[OrderEventOut(at=e.at, actor=e.actor, kind=e.kind, detail=e.detail) for e in view.events]
        if staff
        else None,
    )


def _caller(principal: Principal) -> Caller:
    return Caller(principal.actor, principal.role, principal.bound_to)


def _problem(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
        for e in exc.errors(include_url=False)[:10]
    )


def _inlined(schema: Any, definitions: dict[str, Any]) -> Any:
    """``schema`` with every ``#/$defs/...`` reference replaced by the definition (none is recursive)."""
    if isinstance(schema, dict):
        ref = schema.get("$ref", "")
        if ref.startswith("#/$defs/"):
            return _inlined(definitions[ref.removeprefix("#/$defs/")], definitions)
        return {k: _inlined(v, definitions) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [_inlined(v, definitions) for v in schema]
    return schema


def _signed_body(model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI description of a signed body, which the route reads as bytes to check the signature.

    A model's own JSON schema keeps its parts under ``$defs``, which an OpenAPI document does not
    resolve; inlined, the document says exactly what to send.
    """
    schema = model.model_json_schema()
    return {
        "parameters": [
            {
                "name": SIGNATURE_HEADER,
                "in": "header",
                "required": True,
                "schema": {"type": "string"},
                "description": "base64 Ed25519 signature of the exact request body by the authority's registered key",
            }
        ],
        "requestBody": {
            "content": {"application/json": {"schema": _inlined(schema, schema.get("$defs", {}))}},
            "required": True,
        },
    }


@router.post(
    "/orders",
    response_model=OrderOut,
    status_code=201,
    summary="Submit a signed order (authorities); the answer says what was done and what comes next",
    openapi_extra=_signed_body(OrderIn),
)
async def submit_order(
    request: Request, principal: Principal = Depends(authorized), desk: OrderDesk = Depends(get_orders)
) -> OrderOut:
    body = await request.body()
    document: OrderDocument | None = None
    problem = ""
    try:
        document = OrderIn.model_validate_json(body).document()
    except ValidationError as exc:
        problem = _problem(exc)
    except ValueError as exc:  # a country code the validator could not normalise
        problem = str(exc)
    caller = _caller(principal)
    signature = request.headers.get(SIGNATURE_HEADER)
    view = await run_in_threadpool(lambda: desk.receive(caller, body, signature, document, problem))
    return _out(view, caller)


@router.get("/orders", response_model=list[OrderOut], summary="Orders by time left (an authority: its own)")
def list_orders(
    state: list[OrderState] | None = Query(default=None),
    limit: int = Query(default=100, ge=1, le=500),
    offset: int = Query(default=0, ge=0, le=1_000_000),
    principal: Principal = Depends(authorized),
    desk: OrderDesk = Depends(get_orders),
) -> list[OrderOut]:
    caller = _caller(principal)
    return [_out(v, caller) for v in desk.list(caller, state, limit, offset)]


@router.get("/orders/{order_id}", response_model=OrderOut, summary="An order, the effect given and when")
def get_order(
    order_id: str, principal: Principal = Depends(authorized), desk: OrderDesk = Depends(get_orders)
) -> OrderOut:
    caller = _caller(principal)
    return _out(desk.get(order_id, caller), caller)


@router.post(
    "/orders/{order_id}/execute", response_model=OrderOut, summary="Give effect to an order (legal staff)"
)
def execute_order(
    order_id: str,
    body: ExecuteIn,
    principal: Principal = Depends(authorized),
    desk: OrderDesk = Depends(get_orders),
) -> OrderOut:
    caller = _caller(principal)
    return _out(desk.execute(order_id, caller, body.content_ids, body.note), caller)


@router.post(
    "/orders/{order_id}/approve", response_model=OrderOut, summary="Approve a disclosure (two people)"
)
def approve_order(
    order_id: str,
    body: ApproveIn,
    principal: Principal = Depends(authorized),
    desk: OrderDesk = Depends(get_orders),
) -> OrderOut:
    caller = _caller(principal)
    return _out(desk.approve(order_id, caller, body.note), caller)


@router.post("/orders/{order_id}/refuse", response_model=OrderOut, summary="Refuse an order with its grounds")
def refuse_order(
    order_id: str,
    body: RefuseIn,
    principal: Principal = Depends(authorized),
    desk: OrderDesk = Depends(get_orders),
) -> OrderOut:
    caller = _caller(principal)
    return _out(desk.refuse(order_id, caller, body.ground, body.explanation), caller)


@router.post(
    "/orders/{order_id}/clarification-request",
    response_model=OrderOut,
    summary="Ask the authority for clarification; the clock stops until it answers",
)
def request_clarification(
    order_id: str,
    body: QuestionIn,
    principal: Principal = Depends(authorized),
    desk: OrderDesk = Depends(get_orders),
) -> OrderOut:
    caller = _caller(principal)
    return _out(desk.request_clarification(order_id, caller, body.question), caller)


@router.post(
    "/orders/{order_id}/clarification",
    response_model=OrderOut,
    summary="The authority's signed answer to a request for clarification; the clock starts afresh",
    openapi_extra=_signed_body(ClarificationIn),
)
async def clarify_order(
    order_id: str,
    request: Request,
    principal: Principal = Depends(authorized),
    desk: OrderDesk = Depends(get_orders),
) -> OrderOut:
    body = await request.body()
    try:
        clarification = ClarificationIn.model_validate_json(body)
    except ValidationError as exc:
        raise ApiError(422, "validation_error", _problem(exc)) from None
    caller = _caller(principal)
    answer = Clarification(
        order_id=clarification.order_id,
        question_id=clarification.question_id,
        answer=clarification.answer,
        targets=[OrderTarget(t.url, t.content_id) for t in clarification.targets]
        if clarification.targets is not None
        else None,
    )
    signature = request.headers.get(SIGNATURE_HEADER)
    view = await run_in_threadpool(lambda: desk.clarify(order_id, caller, body, signature, answer))
    return _out(view, caller)
