"""The Core Business Vocabulary (CBV 2.0) terms that EPCIS 2.0 events carry, and their forms.

Each standard CBV value has three spellings in the wild, all meaning one term:
- the bare word of the EPCIS 2.0 JSON-LD binding: `shipping`;
- the CBV 1.x URN: `urn:epcglobal:cbv:bizstep:shipping`;
- the GS1 web vocabulary URI of CBV 2.0: `https://ref.gs1.org/cbv/BizStep-shipping` (or its
  compact form `cbv:BizStep-shipping`).

`normalise` turns any of them into the bare word, the canonical form here: it is what the
official EPCIS JSON schema accepts (the schema refuses the URN form outright), what the JSON-LD
context expands back to the web URI, and one spelling is what queries need to match on. Any
other absolute URI is user vocabulary, which EPCIS 2.0 allows, and is kept as it is. An unknown
bare word is refused: it is a typing error or a private term without its namespace. So is an
unknown term inside the CBV's own namespaces (`urn:epcglobal:cbv:bizstep:shiping`), which the
schema lets through as "some other URI".

The measurement and sensor alert types are GS1 web vocabulary rather than CBV, but the sensor
models need them the same way, so they live here too. Pure module.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import get_close_matches

from chinhhang.trace.epcis.identifiers import is_uri

_CBV_URN = "urn:epcglobal:cbv:"
# The CBV 2.0 namespace, the draft one the schema also reserves, and the compact IRI.
_CBV_WEB = (
    "https://ref.gs1.org/cbv/",
    "http://ref.gs1.org/cbv/",
    "https://ns.gs1.org/cbv/",
    "http://ns.gs1.org/cbv/",
    "cbv:",
)
_GS1_VOC = ("https://gs1.org/voc/", "http://gs1.org/voc/", "https://www.gs1.org/voc/")


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """One CBV vocabulary: its words and the prefixes that spell them as URIs."""

    label: str  # for messages: "business step"
    urn_type: str | None  # `bizstep` in urn:epcglobal:cbv:bizstep:…; None: no URN form exists
    web_type: str  # `BizStep` in https://ref.gs1.org/cbv/BizStep-…
    words: frozenset[str]

    def urn(self, word: str) -> str:
        """The CBV 1.x URN of a word of this vocabulary."""
        if self.urn_type is None:
            raise ValueError(f"the CBV has no URN form for a {self.label}")
        return f"{_CBV_URN}{self.urn_type}:{word}"

    def web_uri(self, word: str) -> str:
        """The CBV 2.0 web URI of a word of this vocabulary."""
        return f"{_CBV_WEB[0]}{self.web_type}-{word}"

    def expand(self, value: str) -> str:
        """The full URI of a canonical value: the web URI of a CBV word, a user URI as it is."""
        return self.web_uri(value) if value in self.words else value

    def normalise(self, value: str) -> str:
        """The canonical form of `value` (see the module); ValueError saying why otherwise."""
        if not value:
            raise ValueError(f"a {self.label} must not be empty")
        if ":" not in value:
            return self._word(value, value)
        if value[: len(_CBV_URN)].lower() == _CBV_URN:
            kind, _, word = value[len(_CBV_URN) :].partition(":")
            if kind != self.urn_type:
                raise ValueError(f"{value!r} is a CBV term, but not a {self.label}")
            return self._word(word, value)
        for base in _CBV_WEB:
            if value.startswith(base):
                kind, _, word = value[len(base) :].partition("-")
                if kind != self.web_type:
                    raise ValueError(f"{value!r} is a CBV term, but not a {self.label}")
                return self._word(word, value)
        if not is_uri(value):
            raise ValueError(
                f"{value!r} is neither a CBV {self.label} nor an absolute URI of your own "
                "vocabulary"
            )
        return value

    def _word(self, word: str, given: str) -> str:
        if word in self.words:
            return word
        near = get_close_matches(word, self.words, n=1)
        hint = f" (did you mean {near[0]}?)" if near else ""
        raise ValueError(
            f"unknown {self.label} {given!r}{hint}: use a CBV 2.0 word or an absolute URI "
            "of your own vocabulary"
        )


# The words of each vocabulary, as CBV 2.0 lists them.
BIZ_STEP_WORDS = frozenset({
    "accepting", "arriving", "assembling", "collecting", "commissioning", "consigning",
    "creating_class_instance", "cycle_counting", "decommissioning", "departing", "destroying",
    "disassembling", "dispensing", "encoding", "entering_exiting", "holding", "inspecting",
    "installing", "killing", "loading", "other", "packing", "picking", "receiving", "removing",
    "repackaging", "repairing", "replacing", "reserving", "retail_selling", "sampling",
    "sensor_reporting", "shipping", "staging_outbound", "stock_taking", "stocking", "storing",
    "transporting", "unloading", "unpacking", "void_shipping",
})  # fmt: skip
DISPOSITION_WORDS = frozenset({
    "active", "available", "completeness_inferred", "completeness_verified", "conformant",
    "container_closed", "container_open", "damaged", "destroyed", "dispensed", "disposed",
    "encoded", "expired", "in_progress", "in_transit", "inactive", "mismatch_class",
    "mismatch_instance", "mismatch_quantity", "needs_replacement", "no_pedigree_match",
    "non_conformant", "non_sellable_other", "partially_dispensed", "recalled", "reserved",
    "retail_sold", "returned", "sellable_accessible", "sellable_not_accessible", "stolen",
    "unavailable", "unknown",
})  # fmt: skip
BIZ_TRANSACTION_TYPE_WORDS = frozenset({
    "bol", "cert", "desadv", "inv", "pedigree", "po", "poc", "prodorder", "recadv", "rma",
    "testprd", "testres", "upevt",
})  # fmt: skip
COMPONENT_WORDS = frozenset({
    "x", "y", "z", "axial_distance", "azimuth", "height", "spherical_radius", "polar_angle",
    "elevation_angle", "easting", "northing", "latitude", "longitude", "altitude",
})  # fmt: skip

BIZ_STEP = Vocabulary("business step", "bizstep", "BizStep", BIZ_STEP_WORDS)
DISPOSITION = Vocabulary("disposition", "disp", "Disp", DISPOSITION_WORDS)
BIZ_TRANSACTION_TYPE = Vocabulary(
    "business transaction type", "btt", "BTT", BIZ_TRANSACTION_TYPE_WORDS
)
SOURCE_DEST_TYPE = Vocabulary(
    "source or destination type",
    "sdt",
    "SDT",
    frozenset({"owning_party", "possessing_party", "location"}),
)
ERROR_REASON = Vocabulary(
    "error reason", "er", "ER", frozenset({"did_not_occur", "incorrect_data"})
)
# Components of a sensor reading (coordinates); new in CBV 2.0, which gives them no URN.
COMPONENT = Vocabulary("component", None, "Comp", COMPONENT_WORDS)

VOCABULARIES = (BIZ_STEP, DISPOSITION, BIZ_TRANSACTION_TYPE, SOURCE_DEST_TYPE, ERROR_REASON)

# GS1 web vocabulary: the quantity a sensor measured (gs1:MeasurementType).
MEASUREMENT_TYPES = frozenset({
    "AbsoluteHumidity", "AbsorbedDose", "AbsorbedDoseRate", "Acceleration", "Radioactivity",
    "Altitude", "AmountOfSubstance", "AmountOfSubstancePerUnitVolume", "Angle",
    "AngularAcceleration", "AngularMomentum", "AngularVelocity", "Area", "Capacitance",
    "Conductance", "Conductivity", "Count", "Density", "Dimensionless", "DoseEquivalent",
    "DoseEquivalentRate", "DynamicViscosity", "ElectricCharge", "ElectricCurrent",
    "ElectricCurrentDensity", "ElectricFieldStrength", "Energy", "Exposure", "Force",
    "Frequency", "Illuminance", "Inductance", "Irradiance", "KinematicViscosity", "Length",
    "LinearMomentum", "Luminance", "LuminousFlux", "LuminousIntensity", "MagneticFlux",
    "MagneticFluxDensity", "MagneticVectorPotential", "Mass", "MassConcentration",
    "MassFlowRate", "MassPerAreaTime", "MemoryCapacity", "MolalityOfSolute", "MolarEnergy",
    "MolarMass", "MolarVolume", "Power", "Pressure", "RadiantFlux", "RadiantIntensity",
    "RelativeHumidity", "Resistance", "Resistivity", "SolidAngle", "SpecificVolume", "Speed",
    "SurfaceDensity", "SurfaceTension", "Temperature", "Time", "Torque", "Voltage", "Volume",
    "VolumeFlowRate", "VolumeFraction", "VolumetricFlux", "Wavenumber",
})  # fmt: skip

# GS1 web vocabulary: why a sensor report is an exception (gs1:SensorAlertType).
SENSOR_ALERT_TYPES = frozenset({"ALARM_CONDITION", "ERROR_CONDITION"})


def gs1_voc_term(label: str, words: frozenset[str], value: str) -> str:
    """A word of a GS1 web vocabulary, or a URI outside https://gs1.org/voc/ (user terms).

    The full gs1.org/voc URI of a term is refused, as the EPCIS schema does: the binding spells
    GS1 terms as bare words, and one spelling is what queries match on."""
    if value in words:
        return value
    if ":" not in value:
        near = get_close_matches(value, words, n=1)
        hint = f"did you mean {near[0]}?" if near else f"a GS1 term such as {min(words)}"
        raise ValueError(f"unknown {label} {value!r} ({hint})")
    if value.startswith(_GS1_VOC):
        raise ValueError(f"write the GS1 {label} {value!r} as its bare word")
    if not is_uri(value):
        raise ValueError(f"{value!r} is neither a GS1 {label} nor an absolute URI")
    return value
