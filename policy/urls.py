from django.urls import path

from policy import views

app_name = "policy"

urlpatterns = [
    path("", views.versions, name="versions"),
    path("new/", views.draft_create, name="draft_create"),
    path("import/", views.ruleset_import, name="import"),
    path("try/", views.try_comment, name="try"),
    path("v/<int:number>/", views.version_rules, name="version"),
    path("v/<int:number>/rules/new/", views.rule_new, name="rule_new"),
    path("v/<int:number>/rules/<slug:rule_id>/", views.rule_edit, name="rule_edit"),
    path("v/<int:number>/rules/<slug:rule_id>/toggle/", views.rule_toggle, name="rule_toggle"),
    path("v/<int:number>/rules/<slug:rule_id>/delete/", views.rule_delete, name="rule_delete"),
    path(
        "v/<int:number>/categories/",
        views.version_section,
        {"section": "categories"},
        name="categories",
    ),
    path("v/<int:number>/terms/", views.version_terms, name="terms"),
    path("v/<int:number>/staff/", views.version_section, {"section": "staff"}, name="staff"),
    path("v/<int:number>/links/", views.version_section, {"section": "links"}, name="links"),
    path(
        "v/<int:number>/templates/",
        views.version_section,
        {"section": "templates"},
        name="templates",
    ),
    path("v/<int:number>/hours/", views.version_section, {"section": "hours"}, name="hours"),
    path(
        "v/<int:number>/examples/",
        views.version_section,
        {"section": "examples"},
        name="examples",
    ),
    path("v/<int:number>/history/", views.version_history, name="history"),
    path("v/<int:number>/export.yaml", views.version_export, name="export"),
    path("v/<int:number>/publish/", views.version_publish, name="publish"),
]
