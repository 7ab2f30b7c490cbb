"""Pages for the court tree, court staff and staff administration."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zhixing.audit import services as audit
from zhixing.courts import scope, services
from zhixing.courts.forms import PasswordForm, UserCreateForm, UserEditForm
from zhixing.courts.masking import mask_phone
from zhixing.courts.models import Court, User
from zhixing.query_params import (
    InvalidParameter,
    InvalidQuery,
    list_status,
    page_of,
    query_without,
    url_without,
)

logger = logging.getLogger(__name__)

# Accounts per page of the staff list.
STAFF_PAGE_SIZE = 50


def _copy_errors(form: object, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for name, messages_ in error.message_dict.items():
            field = name if name in form.fields else None  # type: ignore[attr-defined]
            for message in messages_:
                form.add_error(field, message)  # type: ignore[attr-defined]
    else:
        for message in error.messages:
            form.add_error(None, message)  # type: ignore[attr-defined]


SMALL_TREE = 40


@login_required
def court_tree(request: HttpRequest) -> HttpResponse:
    courts = list(
        scope.visible_courts(request.user)
        .annotate(staff_total=Count("staff", filter=Q(staff__is_active=True)))
        .order_by("path")
    )
    children: dict[int | None, list[Court]] = {}
    ids = {court.pk for court in courts}
    roots = []
    for court in courts:
        if court.parent_id in ids:
            children.setdefault(court.parent_id, []).append(court)
        else:
            roots.append(court)
    own = request.user.court  # type: ignore[union-attr]
    # A small tree opens whole; a large one opens the user's own court and its children only.
    open_all = len(courts) <= SMALL_TREE
    for court in courts:
        court.child_list = sorted(  # type: ignore[attr-defined]
            children.get(court.pk, []), key=lambda c: (c.code is None, c.code or "", c.name)
        )
        court.expanded = open_all or court.pk == own.pk  # type: ignore[attr-defined]
    return render(
        request,
        "courts/tree.html",
        {"roots": roots, "ancestors": list(reversed(own.ancestors())), "total": len(courts)},
    )


@login_required
def court_detail(request: HttpRequest, pk: int) -> HttpResponse:
    court = get_object_or_404(Court.objects.select_related("parent"), pk=pk)
    if not scope.court_in_scope(request.user, court):
        # Out-of-scope courts look the same as missing ones, so nothing leaks.
        raise Http404
    staff = list(court.staff.filter(is_active=True).prefetch_related("roles").order_by("username"))
    show_phone = scope.may_see_personal_data(request.user, court)
    for member in staff:
        member.shown_phone = (  # type: ignore[attr-defined]
            member.phone if show_phone else mask_phone(member.phone)
        )
    if show_phone:
        for member in staff:
            if member.phone:
                audit.record_personal_read(member, ["phone"], purpose="court staff list")
    children = court.children.order_by("code")
    return render(
        request,
        "courts/detail.html",
        {"court": court, "staff": staff, "children": children, "show_phone": show_phone},
    )


def _require_user_admin(request: HttpRequest) -> None:
    if not scope.may_manage_users(request.user, request.user.court):  # type: ignore[union-attr]
        raise PermissionDenied(_("Only administrators manage staff accounts."))


@login_required
def user_list(request: HttpRequest) -> HttpResponse:
    """List the staff accounts in the user's scope that match the search ``q``.

    A ``page`` that is not the number of a page shows its problem and no accounts.
    """
    _require_user_admin(request)
    users = scope.restrict(
        User.objects.select_related("court").prefetch_related("roles"), request.user
    )
    query = request.GET.get("q", "").strip()
    if query:
        users = users.filter(
            Q(username__icontains=query)
            | Q(full_name__icontains=query)
            | Q(court__name__icontains=query)
            | Q(court__code=query)
        )
    page = None
    problems: list[InvalidParameter] = []
    try:
        page = page_of(
            Paginator(users.order_by("court__path", "username"), STAFF_PAGE_SIZE), request.GET
        )
    except InvalidQuery as error:
        problems = error.problems
        logger.info("Staff list of user %s not shown, invalid page", request.user.pk)
    template = (
        "courts/_user_rows.html" if request.headers.get("HX-Request") else "courts/users.html"
    )
    context = {
        "page": page,
        "query": query,
        "page_query": query_without(request.GET, {"page"}),
        "query_errors": problems,
        "reset_url": url_without(request, {"page"}),
    }
    return render(request, template, context, status=list_status(request, problems))


@login_required
def user_create(request: HttpRequest) -> HttpResponse:
    _require_user_admin(request)
    actor = request.user
    form = UserCreateForm(request.POST or None, actor=actor)  # type: ignore[arg-type]
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.create_user(
                actor=actor,  # type: ignore[arg-type]
                court=data["court"],
                username=data["username"],
                full_name=data["full_name"],
                role_codes=data["roles"],
                password=data["password"],
                phone=data["phone"],
            )
        except ValidationError as error:
            _copy_errors(form, error)
        else:
            messages.success(request, _("Account %(name)s created.") % {"name": user.username})
            return redirect("user-list")
    return render(request, "courts/user_form.html", {"form": form, "creating": True})


def _managed_user(request: HttpRequest, pk: int) -> User:
    _require_user_admin(request)
    user = get_object_or_404(User.objects.select_related("court"), pk=pk)
    if not scope.may_manage_users(request.user, user.court):
        raise Http404
    return user


@login_required
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _managed_user(request, pk)
    initial = {
        "full_name": user.full_name,
        "court": user.court,
        "roles": sorted(user.role_codes()),
        "phone": user.phone,
        "is_active": user.is_active,
    }
    form = UserEditForm(request.POST or None, initial=initial, actor=request.user)  # type: ignore[arg-type]
    if request.method == "GET" and user.phone:
        audit.record_personal_read(user, ["phone"], purpose="staff account form")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_user(
                actor=request.user,  # type: ignore[arg-type]
                user=user,
                full_name=data["full_name"],
                role_codes=data["roles"],
                phone=data["phone"],
                is_active=data["is_active"],
                court=data["court"],
            )
        except ValidationError as error:
            _copy_errors(form, error)
        else:
            messages.success(request, _("Account %(name)s saved.") % {"name": user.username})
            return redirect("user-list")
    return render(
        request, "courts/user_form.html", {"form": form, "creating": False, "account": user}
    )


@login_required
def user_password(request: HttpRequest, pk: int) -> HttpResponse:
    user = _managed_user(request, pk)
    form = PasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.set_password(
                actor=request.user,  # type: ignore[arg-type]
                user=user,
                password=form.cleaned_data["password"],
            )
        except ValidationError as error:
            _copy_errors(form, error)
        else:
            messages.success(request, _("Password of %(name)s changed.") % {"name": user.username})
            return redirect("user-list")
    return render(request, "courts/user_password.html", {"form": form, "account": user})


@login_required
@require_POST
def user_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    user = _managed_user(request, pk)
    services.unlock_login(actor=request.user, user=user)  # type: ignore[arg-type]
    messages.success(request, _("Login lockout of %(name)s cleared.") % {"name": user.username})
    return redirect("user-edit", pk=user.pk)
