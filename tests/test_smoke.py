from tests.conftest import make_cause


def test_the_console_lists_the_causes(world):
    make_cause(world.session, "No street lights")
    response = world.facilitator.get(f"/s/{world.session.public_id}/console/")
    assert response.status_code == 200
    assert "No street lights" in response.content.decode()
