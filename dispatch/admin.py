"""Admin of what happened on calls: the calls with their transcript, facts given and tool calls (read-only), and
the queue of questions the restaurants' data could not answer, for staff to resolve, grouped by wording, and to
answer once as a house fact ("Answer it"); and the restaurants' phone lines, whose changes reach LiveKit from here.
Scoped to the staff member's restaurants like every admin (restaurants.admin_base)."""

from __future__ import annotations

import json
from collections import Counter

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import router, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import ngettext

from restaurants import questions
from restaurants.admin_base import RestaurantScopedAdmin, one_click_button, one_click_view
from restaurants.models import MAX_FACT_ANSWER_LENGTH, MAX_FACT_QUESTION_LENGTH, PhoneLine, Restaurant

from . import phone_lines, services
from .livekit import client
from .models import Call, QuestionGroup, UnansweredQuestion

# What the "Facts given" lines of a call's record mean, said above them.
FACTS_GIVEN_NOTE = (
    "Facts given: what the agent was told of the restaurant with its answers (open now, today's and the weekly "
    "hours, the address and phone, and the house facts), read from the database just before each answer. A new "
    "line only when they changed: each held for the answers after it."
)
# The most wordings of one group the grouped queue shows (the most asked); the rest are counted.
MAX_WORDINGS_SHOWN = 8


@admin.register(Call)
class CallAdmin(RestaurantScopedAdmin, admin.ModelAdmin):
    list_display = [
        "created_at", "restaurant", "caller", "status", "end_reason", "duration", "message_count", "open_questions",
    ]  # fmt: skip
    list_filter = ["restaurant", "status", "channel", "end_reason", "created_at"]
    list_select_related = ["restaurant"]
    search_fields = ["room_name", "dispatch_id", "participant_identity", "caller_number"]
    date_hierarchy = "created_at"
    fieldsets = [
        (None, {"fields": ["restaurant", "channel", "caller_number", "dialled_number", "status", "end_reason",
                           "duration"]}),
        ("When (UTC)", {"fields": ["created_at", "agent_joined_at", "diner_joined_at", "ended_at"]}),
        ("What was said", {"fields": ["conversation", "questions"], "description": FACTS_GIVEN_NOTE}),
        ("LiveKit", {"fields": ["room_name", "dispatch_id", "participant_identity", "purged_at"]}),
    ]
    readonly_fields = ["conversation", "questions"]

    def get_queryset(self, request):
        return super().get_queryset(request).with_open_questions().order_by(*Call._meta.ordering)

    @admin.display(description="Channel", ordering="channel")
    def caller(self, call: Call) -> str:
        return call.caller_label

    @admin.display(description="Open questions", ordering="open_questions")
    def open_questions(self, call: Call) -> int:
        return call.open_questions

    @admin.display(description="Transcript, facts given and tool calls")
    def conversation(self, call: Call) -> str:
        """The diner's and the agent's words, the facts the agent was given with its answers (a line when they
        changed) and the tools it called, in the order they happened."""
        said = [(m.created_at, "said", m) for m in call.messages.all()]
        used = [(t.created_at, "tool", t) for t in call.tool_calls.all()]
        given = [(f.created_at, "facts", f) for f in call.turn_facts.all()]
        lines = []
        for at, kind, row in sorted(said + used + given, key=lambda entry: entry[0]):
            if kind == "said":
                lines.append((f"{at:%H:%M:%S}", row.get_role_display(), row.text))
            elif kind == "facts":
                lines.append((f"{at:%H:%M:%S}", "Facts given", row.summary()))
            else:
                outcome = "error" if row.is_error else f"{row.duration_ms} ms" if row.duration_ms is not None else ""
                call_text = f"{row.name}({json.dumps(row.arguments, ensure_ascii=False)}) [{outcome}] → {row.output}"
                lines.append((f"{at:%H:%M:%S}", "Tool", call_text))
        if not lines:
            return "Deleted after the retention period." if call.purged_at else "Nothing was said."
        return format_html(
            '<ol class="call-transcript">{}</ol>',
            format_html_join("", "<li><time>{}</time> <strong>{}</strong>: {}</li>", lines),
        )

    @admin.display(description="Questions we could not answer")
    def questions(self, call: Call) -> str:
        rows = [(q.question, "resolved" if q.resolved_at else "open") for q in call.unanswered_questions.all()]
        if not rows:
            return "None."
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{} ({})</li>", rows))

    def has_add_permission(self, request) -> bool:
        return False  # calls are recorded by the connection-details endpoint and the worker only

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class QuestionStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", "Open"), ("resolved", "Resolved")]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.open()
        if self.value() == "resolved":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


class AnswerForm(forms.Form):
    """"Answer it": what the agent may say, and the question as diners ask it (the group's most asked wording
    unless staff write a better one)."""

    answer = forms.CharField(
        max_length=MAX_FACT_ANSWER_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text=f"What the agent may say, at most {MAX_FACT_ANSWER_LENGTH} characters. It says this and nothing "
        "more: write everything a diner should hear (where, when, how much, any condition).",
    )
    question = forms.CharField(
        label="Question as diners ask it",
        max_length=MAX_FACT_QUESTION_LENGTH,
        required=False,
        widget=forms.TextInput(attrs={"size": 80}),
        help_text='e.g. "Is there parking?". Empty: the diner\'s words above.',
    )


def tally(wordings: list[str]) -> list[tuple[str, int]]:
    """Each distinct wording in `wordings` (newest first) with how many times it was asked, most asked first (the
    newest first among equals); wordings are the same without case, accents and punctuation, shown as last asked."""
    counts = Counter(questions.normalised(w) for w in wordings)
    firsts = {questions.normalised(w): w for w in reversed(wordings)}
    return sorted(((w, counts[n]) for n, w in firsts.items()), key=lambda pair: -pair[1])


@admin.register(UnansweredQuestion)
class UnansweredQuestionAdmin(RestaurantScopedAdmin, admin.ModelAdmin):
    """The queue of questions the agent could not answer from the data, newest first. Staff fix the menu or
    the hours (or note why not) and mark the question resolved, one by one or in bulk."""

    list_display = ["question", "restaurant", "created_at", "resolution", "answer_it", "staff_note"]
    list_display_links = ["question"]
    list_filter = [QuestionStateFilter, "restaurant", "created_at"]
    list_select_related = ["restaurant"]
    search_fields = ["question", "staff_note"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    fields = ["question", "restaurant", "call", "created_at", "resolved_at", "answer_it", "staff_note"]
    readonly_fields = ["question", "restaurant", "call", "created_at", "resolved_at", "answer_it"]
    actions = ["mark_resolved", "mark_open"]

    @admin.display(description="Answer")
    def answer_it(self, asked: UnansweredQuestion) -> str:
        """A link to answer the question once as a house fact, while it is open."""
        if asked.resolved_at:
            return "-"
        url = reverse("admin:dispatch_unansweredquestion_answer", args=[asked.pk])
        return format_html('<a class="button" href="{}" aria-label="Answer it: {}">Answer it</a>', url, asked.question)

    @admin.display(description="Resolved", ordering="resolved_at")
    def resolution(self, asked: UnansweredQuestion) -> str:
        url = reverse("admin:dispatch_unansweredquestion_resolve", args=[asked.pk])
        if asked.resolved_at:
            state = f"{timezone.localtime(asked.resolved_at):%Y-%m-%d %H:%M}"
            label, aria = "Reopen", f"Reopen: {asked.question}"
        else:
            state, label, aria = "Open", "Resolve", f"Mark resolved: {asked.question}"
        button = one_click_button(url=url, field="resolved", wanted=not asked.resolved_at, label=label, aria_label=aria)
        return format_html("{} {}", state, button)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/resolve/", wrap(self.resolve_view), name="dispatch_unansweredquestion_resolve"),
            path("<int:pk>/answer/", wrap(self.answer_view), name="dispatch_unansweredquestion_answer"),
            path("grouped/", wrap(self.grouped_view), name="dispatch_unansweredquestion_grouped"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "grouped_url": reverse("admin:dispatch_unansweredquestion_grouped")}
        return super().changelist_view(request, extra_context)

    def may_answer(self, request: HttpRequest) -> bool:
        """Whether the staff member may answer questions: resolve them and make house facts."""
        return self.has_change_permission(request) and request.user.has_perm("restaurants.add_housefact")

    def grouped_view(self, request: HttpRequest) -> HttpResponse:
        """GET: the open questions of the staff member's restaurants, one row per group of wordings that ask the
        same thing (UnansweredQuestionQuerySet.grouped) with how many times, when last (the restaurant's local
        time), the wordings, and "Answer it". `?order=count` (default: most asked first) or `latest`;
        `?restaurant=<id>` for one of theirs (any other answers 404, like a missing one)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        asked = self.get_queryset(request).open()
        chosen = request.GET.get("restaurant", "")
        if chosen:
            mine = Restaurant.objects.for_staff(request.user)
            if not chosen.isdigit() or not mine.filter(pk=chosen).exists():
                raise Http404("No such restaurant.")
            asked = asked.filter(restaurant_id=chosen)
        order = "latest" if request.GET.get("order") == "latest" else "count"
        groups, left_out = asked.grouped()
        if order == "count":
            groups.sort(key=lambda g: g.count, reverse=True)  # stable: the newest first among equals
        may_answer = self.may_answer(request)
        rows = [self._group_row(g, may_answer) for g in groups]
        context = {
            **self.admin_site.each_context(request), "opts": self.opts, "title": "Open questions, grouped",
            "rows": rows, "asked": sum(g.count for g in groups), "left_out": left_out, "order": order,
            "chosen": chosen, "restaurants": Restaurant.objects.for_staff(request.user).order_by("name"),
        }  # fmt: skip
        return TemplateResponse(request, "admin/dispatch/unansweredquestion/grouped.html", context)

    def _group_row(self, group: QuestionGroup, may_answer: bool) -> dict:
        latest = timezone.localtime(group.latest, group.restaurant.tz)
        answer = reverse("admin:dispatch_unansweredquestion_answer", args=[group.ids[0]])
        return {
            "group": group,
            "latest": f"{latest:%Y-%m-%d %H:%M} ({group.restaurant.time_zone})",
            "wordings": group.wordings[:MAX_WORDINGS_SHOWN],
            "more_wordings": max(len(group.wordings) - MAX_WORDINGS_SHOWN, 0),
            "answer_url": answer if may_answer else "",
        }

    def answer_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """GET: the form to answer question `pk` once (AnswerForm: the answer, optionally the question as diners
        ask it), with the other open questions of its group that it resolves too. POST: services.
        unanswered_question_answer makes the house fact and resolves the group in one transaction (each change in
        the admin log), then back to the grouped queue; a bad answer shows the form again with the reason, and
        changes nothing. 404 for a question not of the staff member's restaurants, 403 without the permissions
        to change questions and add house facts."""
        asked = get_object_or_404(self.get_queryset(request).select_related("restaurant"), pk=pk)
        if not self.may_answer(request):
            raise PermissionDenied
        group = UnansweredQuestion.objects.filter(pk__in=UnansweredQuestion.objects.group_of(asked))
        wordings = tally(list(group.order_by("-created_at", "-pk").values_list("question", flat=True)))
        if request.method == "POST":
            form = AnswerForm(request.POST)
            if form.is_valid():
                try:
                    fact, resolved = services.unanswered_question_answer(
                        asked=asked, answer=form.cleaned_data["answer"], question=form.cleaned_data["question"]
                    )
                except ValidationError as refused:
                    form.add_error(None, refused)
                else:
                    self.log_addition(request, fact, [{"added": {}}])
                    for row in resolved:
                        self.log_change(request, row, [{"changed": {"fields": ["Resolved at", "Staff note"]}}])
                    n = len(resolved)
                    self.message_user(
                        request,
                        f"“{fact.question}” is a house fact now: the agent answers it from the next question on. "
                        f"{n} {'question' if n == 1 else 'questions'} resolved.",
                        messages.SUCCESS,
                    )
                    return redirect("admin:dispatch_unansweredquestion_grouped")
        else:
            form = AnswerForm(initial={"question": wordings[0][0] if wordings else asked.question})
        context = {
            **self.admin_site.each_context(request), "opts": self.opts, "title": f"Answer “{asked.question}”",
            "asked": asked, "form": form, "wordings": wordings[:MAX_WORDINGS_SHOWN],
            "others": sum(n for _, n in wordings) - 1,
            "media": self.media + form.media,
        }  # fmt: skip
        return TemplateResponse(request, "admin/dispatch/unansweredquestion/answer.html", context)

    def resolve_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """POST resolved=1|0: marks the question resolved (now) or open again, then back to the queue."""

        def apply(request, questions, resolved: bool) -> str:
            self.set_resolved(request, questions, resolved)
            return f"“{questions[0].question}” is {'resolved' if resolved else 'open again'}."

        changelist = reverse("admin:dispatch_unansweredquestion_changelist")
        return one_click_view(self, request, pk, field="resolved", apply=apply, changelist=changelist)

    def set_resolved(self, request: HttpRequest, questions, resolved: bool) -> int:
        """Marks the questions resolved (now) or open; returns how many changed, each with an admin log entry."""
        changed = [q for q in questions if bool(q.resolved_at) != resolved]
        for asked in changed:
            asked.resolved_at = timezone.now() if resolved else None
            asked.save(update_fields=["resolved_at"])
            self.log_change(request, asked, [{"changed": {"fields": ["Resolved at"]}}])
        return len(changed)

    @admin.action(description="Mark selected questions resolved")
    def mark_resolved(self, request, queryset) -> None:
        n = self.set_resolved(request, queryset, True)
        self.message_user(request, ngettext("%d question is resolved.", "%d questions are resolved.", n) % n)

    @admin.action(description="Mark selected questions open again")
    def mark_open(self, request, queryset) -> None:
        n = self.set_resolved(request, queryset, False)
        self.message_user(request, ngettext("%d question is open again.", "%d questions are open again.", n) % n)

    def has_add_permission(self, request) -> bool:
        return False  # the agent records them


# --- Phone lines: restaurant data, kept in step with LiveKit's SIP configuration ----------------------------
# Registered here, not in restaurants/admin.py, because saving a line talks to LiveKit (dispatch/phone_lines.py) and the
# restaurants app imports nothing of dispatch's.


@admin.register(PhoneLine)
class PhoneLineAdmin(RestaurantScopedAdmin, admin.ModelAdmin):
    """A restaurant's phone numbers. Saving or deleting one updates LiveKit's SIP trunk and that line's dispatch
    rule once the change is committed, and says how that went; the line is saved either way."""

    list_display = ["number", "restaurant", "transfer_number", "is_active"]
    list_filter = ["restaurant", "is_active"]
    list_select_related = ["restaurant"]
    search_fields = ["number", "transfer_number", "restaurant__name"]
    fields = ["restaurant", "number", "transfer_number", "is_active"]

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        self._sync_after_commit(request, [obj.pk])

    def delete_model(self, request, obj) -> None:
        line_id = obj.pk
        super().delete_model(request, obj)
        self._sync_after_commit(request, [line_id])

    def delete_queryset(self, request, queryset) -> None:
        line_ids = list(queryset.values_list("pk", flat=True))
        super().delete_queryset(request, queryset)
        self._sync_after_commit(request, line_ids)

    def _sync_after_commit(self, request: HttpRequest, line_ids: list[int]) -> None:
        transaction.on_commit(lambda: self._sync(request, line_ids), using=router.db_for_write(PhoneLine))

    def _sync(self, request: HttpRequest, line_ids: list[int]) -> None:
        if missing := client.missing_settings():
            self.message_user(
                request,
                f"The phone line is saved but not live yet: LiveKit is not configured. Set {', '.join(missing)}, "
                "then run manage.py sync_sip.",
                messages.WARNING,
            )
            return
        try:
            done = phone_lines.sync_lines(line_ids)
        except phone_lines.SYNC_ERRORS as exc:
            self.message_user(
                request,
                f"The phone line is saved, but LiveKit was not updated. {phone_lines.explain(exc)} Once that is fixed, run "
                "manage.py sync_sip.",
                messages.ERROR,
            )
            return
        if done:
            self.message_user(request, f"LiveKit is updated: {'; '.join(done)}.", messages.SUCCESS)
        else:
            self.message_user(request, "LiveKit already had this phone line as it is.", messages.SUCCESS)
