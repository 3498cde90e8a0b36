from django.urls import reverse


def test_typing_list_finds_add_profile_to_list(client_for, alice):
    page = client_for(alice).get(reverse("catalog"), {"q": "list"})
    assert page.status_code == 200
    assert "Add Profile To List" in page.content.decode()
    assert page.context["count"] < 225


def test_the_catalog_lists_all_225_actions_by_category(client_for, alice):
    page = client_for(alice).get(reverse("catalog"))
    assert page.context["count"] == 225
    categories = [name for name, _ in page.context["groups"]]
    assert categories == sorted(categories)
    assert "Profiles" in categories


def test_htmx_searches_get_only_the_results(client_for, alice):
    page = client_for(alice).get(
        reverse("catalog"), {"q": "coupon", "category": ""}, headers={"HX-Request": "true"}
    )
    body = page.content.decode()
    assert "<html" not in body
    assert "Create Coupon" in body


def test_a_category_filter_narrows_the_list(client_for, alice):
    page = client_for(alice).get(reverse("catalog"), {"category": "Coupons"})
    assert {a.category for _, actions in page.context["groups"] for a in actions} == {"Coupons"}


def test_an_action_page_shows_its_fields_scopes_and_limits(client_for, alice):
    page = client_for(alice).get(reverse("catalog_action", args=["KLAVIYO_ADD_PROFILE_TO_LIST"]))
    body = page.content.decode()
    assert page.status_code == 200
    rows = {row.name: row for row in page.context["inputs"]}
    assert rows["list_id"].required
    assert rows["emails"].type == "array of string (email)"
    assert "at most 1000 items" in rows["emails"].constraints
    assert "lists:write" in body
    assert "10/s burst" in body
    assert any(row.name.startswith("data.") for row in page.context["outputs"])


def test_an_unknown_action_answers_404(client_for, alice):
    assert (
        client_for(alice).get(reverse("catalog_action", args=["KLAVIYO_NOPE"])).status_code == 404
    )
