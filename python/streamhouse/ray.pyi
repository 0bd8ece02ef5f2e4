from typing import Any, Mapping, Optional, Sequence

def read_streamhouse(
    url: str,
    ident: str,
    columns: Optional[Sequence[str]] = None,
    filter: Optional[str] = None,
    snapshot_id: Optional[int] = None,
    storage_options: Optional[Mapping[str, str]] = None,
    **read_args: Any,
) -> Any: ...  # ray.data.Dataset
def write_streamhouse(
    ds: Any, url: str, ident: str, storage_options: Optional[Mapping[str, str]] = None
) -> Optional[int]: ...
