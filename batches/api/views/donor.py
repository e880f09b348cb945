"""Cord blood unit API: /api/v1/donor-units/{din}/ and its actions."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from batches import selectors
from batches.api.serializers.donor import (
    AllocateIn,
    CordBloodUnitOut,
    CordBloodUnitRegisterIn,
    DonorPanelOut,
    DonorTestIn,
    DonorTestOut,
    DsaIn,
    DsaOut,
    EligibilityIn,
    MatchOut,
    MatchQueryIn,
    MoveIn,
    ReasonIn,
)
from batches.models import CordBloodUnit
from batches.selectors.donor import donor_panel_assessment
from batches.selectors.unit_selection import unit_match
from batches.services import donor, unit_selection
from carnk_mfg.api.viewsets import ReadViewSet


class CordBloodUnitFilter(django_filters.FilterSet):
    class Meta:
        model = CordBloodUnit
        fields = ["status", "eligibility", "source_bank", "product_code"]


class CordBloodUnitViewSet(mixins.CreateModelMixin, ReadViewSet):
    """Cord blood units, looked up by DIN."""

    queryset = selectors.cord_blood_unit_list().select_related("registered_by")
    serializer_class = CordBloodUnitOut
    lookup_field = "din"
    filterset_class = CordBloodUnitFilter
    search_fields = ["din", "source_bank", "freezer"]
    ordering_fields = ["registered_at", "din", "collected_at"]
    action_permissions = {
        "list": "batches.view_cordbloodunit",
        "retrieve": "batches.view_cordbloodunit",
        "history": "batches.view_cordbloodunit",
        "signatures": "batches.view_cordbloodunit",
        "create": "batches.add_cordbloodunit",
        "eligibility": "batches.determine_eligibility",
        "allocate": "batches.allocate_cordbloodunit",
        "move": "batches.store_cordbloodunit",
        "discard": "batches.discard_cordbloodunit",
        "match": "batches.view_cordbloodunit",
        "dsa": "batches.record_dsa",
        "donor_tests": "batches.view_cordbloodunit",
        "record_donor_test": "batches.record_donor_test",
    }

    @extend_schema(request=CordBloodUnitRegisterIn, responses={201: CordBloodUnitOut})
    def create(self, request, *args, **kwargs):
        """Register a received unit. `din` needs its keyboard `check_character`; the
        registering technician signs with their password."""
        data = self.parse(CordBloodUnitRegisterIn)
        unit = donor.cord_blood_unit_register(actor=request.user, request=request, **data)
        return self.respond(unit, status.HTTP_201_CREATED)

    @extend_schema(request=EligibilityIn, responses=CordBloodUnitOut)
    @action(detail=True, methods=["post"])
    def eligibility(self, request, *args, **kwargs):
        """QA's donor eligibility determination, e-signed."""
        data = self.parse(EligibilityIn)
        unit = donor.cord_blood_unit_determine_eligibility(
            actor=request.user, request=request, unit=self.get_object(), **data
        )
        return self.respond(unit)

    @extend_schema(request=AllocateIn, responses=CordBloodUnitOut)
    @action(detail=True, methods=["post"])
    def allocate(self, request, *args, **kwargs):
        data = self.parse(AllocateIn)
        unit = donor.cord_blood_unit_allocate(actor=request.user, unit=self.get_object(), **data)
        return self.respond(unit)

    @extend_schema(request=MoveIn, responses=CordBloodUnitOut)
    @action(detail=True, methods=["post"])
    def move(self, request, *args, **kwargs):
        data = self.parse(MoveIn)
        unit = donor.cord_blood_unit_move(actor=request.user, unit=self.get_object(), **data)
        return self.respond(unit)

    @extend_schema(request=ReasonIn, responses=CordBloodUnitOut)
    @action(detail=True, methods=["post"])
    def discard(self, request, *args, **kwargs):
        data = self.parse(ReasonIn)
        unit = donor.cord_blood_unit_discard(actor=request.user, unit=self.get_object(), **data)
        return self.respond(unit)

    @extend_schema(parameters=[MatchQueryIn], responses=MatchOut)
    @action(detail=True, methods=["get"], filter_backends=[])
    def match(self, request, *args, **kwargs):
        """The unit's match to `?recipient=<subject id>`: HLA grade (x/6: HLA-A, -B antigen,
        -DRB1 allele), KIR ligands of both, the KIR-ligand mismatch and the latest DSA."""
        unit = self.get_object()  # an unknown unit is a 404 whatever the query says
        ser = MatchQueryIn(data=request.query_params)
        ser.is_valid(raise_exception=True)
        found = unit_match(unit=unit, recipient=ser.validated_data["recipient"])
        return Response(MatchOut(found).data)

    @extend_schema(request=DsaIn, responses={201: DsaOut})
    @action(detail=True, methods=["post"])
    def dsa(self, request, *args, **kwargs):
        """Record a recipient's donor-specific antibody result against this unit."""
        data = self.parse(DsaIn)
        dsa = unit_selection.dsa_record(actor=request.user, unit=self.get_object(), **data)
        return Response(DsaOut(dsa).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=DonorPanelOut)
    @action(detail=True, methods=["get"], url_path="donor-tests", filter_backends=[])
    def donor_tests(self, request, *args, **kwargs):
        """The donor (maternal) test panel: each test, the required ones missing or sampled
        outside the window, reactive markers, and the determination the panel suggests with
        its reasons."""
        return Response(DonorPanelOut(donor_panel_assessment(self.get_object())).data)

    @extend_schema(request=DonorTestIn, responses={201: DonorTestOut})
    @donor_tests.mapping.post
    def record_donor_test(self, request, *args, **kwargs):
        """Record one test of the unit's donor; one result per marker, never replaced."""
        unit = self.get_object()  # an unknown unit is a 404 whatever the body says
        data = self.parse(DonorTestIn)
        test = donor.donor_test_record(actor=request.user, unit=unit, **data)
        return Response(DonorTestOut(test).data, status=status.HTTP_201_CREATED)
