from django.urls import reverse


def test_root_is_a_landing_page_linking_admin_api_docs_and_health(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    for name in ("admin:index", "swagger-ui", "schema", "healthz", "readyz"):
        assert f'href="{reverse(name)}"' in page, name


def test_landing_page_needs_no_sign_in_and_refuses_posts(client):
    assert client.head("/").status_code == 200
    assert client.post("/").status_code == 405


def test_every_link_on_the_landing_page_answers(client, django_user_model):
    import re

    admin = django_user_model.objects.create_superuser(username="root", password="pw-root-123")
    client.force_login(admin)
    for href in re.findall(r'href="([^"]+)"', client.get("/").content.decode()):
        assert client.get(href, follow=True).status_code in (200, 503), href
