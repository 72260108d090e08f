"""The documented Health Connect and HealthKit mappings, item by item (no database needed)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from challenges.activities.health_mappings import (
    HC_EXERCISE_TYPES,
    HK_WORKOUT_TYPES,
    Distance,
    batch_homes,
    from_health_connect,
    from_healthkit,
)
from challenges.activities.models import ActivityIn, ActivityKind, ActivitySource
from challenges.activities.schemas import parse_item
from scoring.catalogue import ACTIVITY_TYPES

START, END = "2026-05-04T07:00:00+03:00", "2026-05-04T07:45:00+03:00"


def test_every_mapped_type_is_a_catalogue_type():
    assert set(HC_EXERCISE_TYPES.values()) <= set(ACTIVITY_TYPES)
    assert set(HK_WORKOUT_TYPES.values()) <= set(ACTIVITY_TYPES)


@pytest.mark.parametrize(("exercise_type", "code"), [(56, "running"), (79, "walking"), (8, "cycling"),
                                                     ("EXERCISE_TYPE_BIKING", "cycling"), (74, "swimming_slow")])
def test_health_connect_exercise_types(exercise_type, code):
    item = from_health_connect({"recordType": "ExerciseSession", "exerciseType": exercise_type, "startTime": START,
                                "endTime": END, "metadata": {"id": "abc", "dataOrigin": "com.example"}})
    assert isinstance(item, ActivityIn)
    assert (item.type_code, item.duration_s, item.source, item.external_id) == (
        code, 2700, ActivitySource.HEALTH_CONNECT, "abc")
    assert item.started_at == datetime(2026, 5, 4, 4, 0, tzinfo=UTC)


def test_health_connect_steps_are_a_step_record():
    item = from_health_connect({"recordType": "StepsRecord", "count": 1234, "startTime": START, "endTime": END,
                                "metadata": {"id": "s1"}})
    assert isinstance(item, ActivityIn)
    assert (item.kind, item.steps, item.type_code) == (ActivityKind.STEPS, 1234, "walking")


@pytest.mark.parametrize(("raw", "words"), [
    ({"recordType": "Steps", "count": 5, "startTime": START, "endTime": END}, "metadata.id"),
    ({"recordType": "Steps", "count": "many", "startTime": START, "endTime": END, "metadata": {"id": "x"}},
     "integer"),
    ({"recordType": "Steps", "count": 5, "startTime": "2026-05-04T07:00:00", "endTime": END,
      "metadata": {"id": "x"}}, "offset"),
    ({"recordType": "Steps", "count": 5, "startTime": END, "endTime": START, "metadata": {"id": "x"}}, "after"),
    ({"recordType": "Sleep", "startTime": START, "endTime": END, "metadata": {"id": "x"}}, "Sleep"),
])
def test_health_connect_problems_are_explained(raw, words):
    problem = from_health_connect(raw)
    assert isinstance(problem, str) and words in problem


def test_healthkit_workout_by_name_and_by_raw_value():
    by_name = from_healthkit({"sampleType": "HKWorkoutTypeIdentifier", "uuid": "u1", "startDate": START,
                              "endDate": END, "workoutActivityType": "HKWorkoutActivityTypeRunning",
                              "totalDistance": 7000})
    by_raw = from_healthkit({"sampleType": "HKWorkoutTypeIdentifier", "uuid": "u2", "startDate": START,
                             "endDate": END, "workoutActivityType": 37})
    assert isinstance(by_name, ActivityIn) and isinstance(by_raw, ActivityIn)
    assert (by_name.type_code, by_name.distance_m, by_raw.type_code) == ("running", 7000.0, "running")


def test_distance_samples_find_the_session_of_their_batch_and_source_they_lie_within():
    ride = from_healthkit({"sampleType": "HKWorkoutTypeIdentifier", "workoutActivityType": 13, "uuid": "ride",
                           "startDate": START, "endDate": END})
    inside = from_healthkit({"sampleType": "HKQuantityTypeIdentifierDistanceCycling", "quantity": 4000,
                             "uuid": "d1", "startDate": START, "endDate": "2026-05-04T07:20:00+03:00",
                             "sourceBundleId": "com.apple.health"})
    # milliseconds past the session's stored (whole-second) end still lie within it
    at_the_end = from_healthkit({"sampleType": "HKQuantityTypeIdentifierDistanceCycling", "quantity": 10,
                                 "uuid": "d2", "startDate": "2026-05-04T07:44:00+03:00",
                                 "endDate": "2026-05-04T07:45:00.400+03:00"})
    outside = from_healthkit({"sampleType": "HKQuantityTypeIdentifierDistanceCycling", "quantity": 900,
                              "uuid": "d3", "startDate": "2026-05-04T09:00:00+03:00",
                              "endDate": "2026-05-04T09:10:00+03:00"})
    other_store = from_health_connect({"recordType": "Distance", "distance": {"inMeters": 50}, "startTime": START,
                                       "endTime": END, "metadata": {"id": "hc-d"}})
    assert isinstance(inside, Distance) and isinstance(other_store, Distance)
    assert (inside.external_id, inside.source, inside.metres, inside.source_ref) == (
        "d1", ActivitySource.HEALTHKIT, 4000.0, "healthkit:HKQuantityTypeIdentifierDistanceCycling:com.apple.health")
    assert other_store.source == ActivitySource.HEALTH_CONNECT and other_store.source_ref == "health_connect:Distance"
    assert batch_homes([ride, inside, at_the_end, outside, other_store, "bad item"]) == {
        1: 0, 2: 0, 3: None, 4: None}


@pytest.mark.parametrize(("raw", "words"), [
    ({"recordType": "Distance", "distance": {"inMeters": 5}, "startTime": START, "endTime": END}, "metadata.id"),
    ({"recordType": "Distance", "distance": {"inMeters": -5}, "startTime": START, "endTime": END,
      "metadata": {"id": "x"}}, "inMeters"),
])
def test_health_connect_distance_records_need_their_id_and_metres(raw, words):
    problem = from_health_connect(raw)
    assert isinstance(problem, str) and words in problem


def test_a_healthkit_distance_sample_needs_its_uuid():
    problem = from_healthkit({"sampleType": "HKQuantityTypeIdentifierDistanceWalkingRunning", "quantity": 40,
                              "startDate": START, "endDate": END})
    assert isinstance(problem, str) and "uuid" in problem


@pytest.mark.parametrize(("raw", "words"), [
    ({"source": "gpx", "external_id": "x", "type": "walking", "started_at": START, "duration_s": 60}, "import"),
    ({"source": "manual", "external_id": "x", "type": "walking", "started_at": START}, "ended_at or duration_s"),
    ({"source": "manual", "external_id": "x", "type": "walking", "started_at": START, "duration_s": "long"},
     "integer"),
    ({"source": "manual", "external_id": "x", "type": "walking", "started_at": START, "duration_s": 60,
      "colour": "red"}, "unknown field"),
])
def test_batch_item_problems_are_explained(raw, words):
    problem = parse_item(raw)
    assert isinstance(problem, str) and words in problem


def test_healthkit_paddle_sports_by_apple_case_name_and_raw_value_map_to_kayaking():
    by_name = from_healthkit({"sampleType": "HKWorkoutTypeIdentifier", "uuid": "p1", "startDate": START,
                              "endDate": END, "workoutActivityType": "HKWorkoutActivityTypePaddleSports"})
    by_raw = from_healthkit({"sampleType": "HKWorkoutTypeIdentifier", "uuid": "p2", "startDate": START,
                             "endDate": END, "workoutActivityType": 31})
    assert isinstance(by_name, ActivityIn) and isinstance(by_raw, ActivityIn)
    assert (by_name.type_code, by_raw.type_code) == ("kayaking", "kayaking")
