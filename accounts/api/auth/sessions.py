"""The caller's sessions."""

from __future__ import annotations

import uuid

from drf_spectacular.utils import (
    extend_schema,
)
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.auth.common import (
    TAGS,
)
from accounts.api.examples import (
    SESSION_EXAMPLE,
)
from accounts.authentication import AuthenticatedRequest, session_id_of
from accounts.constants import RevokeReason
from accounts.models import AuthSession
from accounts.selectors import sessions_live
from accounts.services.sessions import (
    session_revoke,
)
from config.api import NoStoreMixin
from config.client import ClientInfo


class SessionOutputSerializer(serializers.Serializer):
    # Renders an AuthSession; the context names the session making the request.
    id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(
        help_text="Updated when the session's tokens are refreshed."
    )
    ip = serializers.IPAddressField(allow_null=True)
    user_agent = serializers.CharField()
    current = serializers.SerializerMethodField(
        help_text="This is the session making the request."
    )

    def get_current(self, session: AuthSession) -> bool:
        return str(session.pk) == str(self.context["current_session_id"])


class SessionListApi(NoStoreMixin, GenericAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = SessionOutputSerializer

    @extend_schema(
        operation_id="listSessions",
        examples=[SESSION_EXAMPLE],
        tags=TAGS,
        summary="The caller's live sessions",
        responses=SessionOutputSerializer(many=True),
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        page = self.paginate_queryset(sessions_live(user=request.user))
        sessions = SessionOutputSerializer(
            page, many=True, context={"current_session_id": session_id_of(request)}
        )
        return self.get_paginated_response(sessions.data)


class SessionDetailApi(APIView):
    revokes_sessions_on = frozenset({"DELETE"})  # 503 if the cache refuses
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="revokeSession",
        tags=TAGS,
        summary="Revoke one of the caller's sessions",
        description="Its access and refresh tokens stop working at once.",
        responses={204: None},
    )
    def delete(self, request: AuthenticatedRequest, session_id: uuid.UUID) -> Response:
        session_revoke(
            user=request.user,
            session_id=session_id,
            reason=RevokeReason.REVOKED,
            client=ClientInfo.from_request(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
