"""The CSV reader alone: typed parsing, each error's message, personal data rules."""

import pytest
import tensorflow as tf
from tensorflow_metadata.proto.v0 import schema_pb2

from components.csv_ingest import reader

TYPES = {"fare": schema_pb2.FLOAT, "hour": schema_pb2.INT, "company": schema_pb2.BYTES}
GOOD = b"fare,hour,company\n12.5,3,Flash\n,4,\n7,5,Blue\n"


def examples(data: bytes, personal=reader.PersonalData()):
    return [tf.train.Example.FromString(e) for e in
            reader.read_examples("f.csv", data, TYPES, personal)]


def test_typed_values_and_missing_cells_become_empty_lists():
    first, second, _ = examples(GOOD)
    assert first.features.feature["fare"].float_list.value == [12.5]
    assert first.features.feature["hour"].int64_list.value == [3]
    assert first.features.feature["company"].bytes_list.value == [b"Flash"]
    assert list(second.features.feature["fare"].float_list.value) == []
    assert list(second.features.feature["company"].bytes_list.value) == []


def test_crlf_and_byte_order_mark_are_accepted():
    data = ("\ufeff" + GOOD.decode().replace("\n", "\r\n")).encode()
    assert examples(data) == examples(GOOD)


@pytest.mark.parametrize("data,message", [
    (b"", "f.csv: empty file"),
    (b"fare,hour,company\n", "f.csv: header only, no data rows"),
    (b"fare,hour,company\n1,2,a\n3,4,b,c\n", "f.csv: line 3: 4 fields, but the header has 3"),
    (b"fare,hour,company\n1,2\n", "f.csv: line 2: 2 fields, but the header has 3"),
    (b"fare,hour,company\n1,2,a\nten,3,b\n",
     "f.csv: line 3: column 'fare': 'ten' is not a number as the schema requires"),
    (b"fare,hour,company\n1,2.5,a\n",
     "f.csv: line 2: column 'hour': '2.5' is not an integer as the schema requires"),
    (b"fare,hour,company\n1,2,a\n1,2,Caf\xe9\n", "f.csv: line 3: bytes that are not UTF-8"),
    (b'fare,hour,company\n1,2,"two\nlines"\n',
     "f.csv: line 2: column 'company': a quoted value contains a line break"),
])
def test_errors_name_file_line_and_column(data, message):
    with pytest.raises(reader.CsvError) as error:
        examples(data)
    assert str(error.value).startswith(message)


def test_personal_columns_are_dropped_or_replaced_by_a_keyed_hash():
    data = b"fare,hour,company,email,customer\n1,2,a,ann@x.org,C1\n3,4,b,ann@x.org,C2\n"
    personal = reader.PersonalData(drop=("customer",), pseudonymize=("email",), key=b"k1")
    first, second = examples(data, personal)
    assert "customer" not in first.features.feature
    pseudonym = first.features.feature["email"].bytes_list.value[0]
    assert pseudonym == second.features.feature["email"].bytes_list.value[0]
    assert b"ann" not in first.SerializeToString()
    assert len(pseudonym) == 32
    other_key = reader.PersonalData(pseudonymize=("email",), key=b"k2")
    assert examples(data, other_key)[0].features.feature["email"].bytes_list.value[0] != pseudonym
