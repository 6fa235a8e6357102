"""Shared dependencies: the application's store, pipeline, admin service and review desks."""

from __future__ import annotations

from fastapi import Request

from vigil.config import Settings
from vigil.enforce.evidence import EvidenceVault
from vigil.intake.authorities import AuthorityRegistry
from vigil.intake.notices import NoticeDesk
from vigil.intake.orders import OrderDesk
from vigil.pipeline.admin import Admin
from vigil.pipeline.service import Pipeline
from vigil.review.appeals import AppealDesk
from vigil.review.cases import CaseDesk
from vigil.store.db import Store


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def get_pipeline(request: Request) -> Pipeline:
    pipeline: Pipeline = request.app.state.pipeline
    return pipeline


def get_admin(request: Request) -> Admin:
    admin: Admin = request.app.state.admin
    return admin


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_desk(request: Request) -> CaseDesk:
    desk: CaseDesk = request.app.state.desk
    return desk


def get_appeals(request: Request) -> AppealDesk:
    desk: AppealDesk = request.app.state.appeals
    return desk


def get_orders(request: Request) -> OrderDesk:
    desk: OrderDesk = request.app.state.orders
    return desk


def get_authorities(request: Request) -> AuthorityRegistry:
    registry: AuthorityRegistry = request.app.state.authorities
    return registry


def get_notices(request: Request) -> NoticeDesk:
    desk: NoticeDesk = request.app.state.notices
    return desk


def get_vault(request: Request) -> EvidenceVault:
    vault: EvidenceVault = request.app.state.vault
    return vault
