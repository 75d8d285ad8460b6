"""files.available_memory, the one reading of free memory: MemAvailable, or less where a memory
cgroup limits the process, at its own level or an ancestor's, v2 or v1. And the atomic writers'
temp files and folders, which no Ctrl-C leaves behind."""

import os
import pathlib

import pytest

from pipeline.artifacts import files
from pipeline.artifacts.file_sets import staged_files


def mem_available():
    with open("/proc/meminfo") as meminfo:
        return next(int(line.split()[1]) * 1024 for line in meminfo
                    if line.startswith("MemAvailable:"))


def cgroup(folder, limit, usage, inactive, names):
    """A fake cgroup folder: its limit and usage files and a memory.stat."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / names[0]).write_text(f"{limit}\n")
    (folder / names[1]).write_text(f"{usage}\n")
    (folder / "memory.stat").write_text(f"anon 5\n{names[2]} {inactive}\nfile 9\n")


@pytest.fixture
def fake_cgroups(tmp_path, monkeypatch):
    """/proc/self/cgroup and the cgroup mounts under tmp_path: (process file, v2 root, v1 root)."""
    v2, v1 = tmp_path / "v2", tmp_path / "v1"
    monkeypatch.setattr(files, "CGROUP_OF_PROCESS", tmp_path / "cgroup")
    monkeypatch.setattr(files, "CGROUPS", {"v2": (v2, *files.CGROUPS["v2"][1:]),
                                           "v1": (v1, *files.CGROUPS["v1"][1:])})
    return tmp_path / "cgroup", v2, v1


def test_a_v2_limit_on_an_ancestor_counts_its_inactive_page_cache_as_free(fake_cgroups):
    process, v2, _ = fake_cgroups
    process.write_text("0::/job/step\n")
    names = files.CGROUPS["v2"][1:]
    cgroup(v2 / "job", 1_000_000, 700_000, 200_000, names)
    cgroup(v2 / "job" / "step", "max", 650_000, 150_000, names)  # no limit at this level
    assert files.available_memory() == 500_000
    assert list(files.cgroup_room()) == [500_000]


def test_a_v1_limit_is_read_from_the_memory_hierarchy_only(fake_cgroups):
    process, _, v1 = fake_cgroups
    process.write_text("5:cpu,cpuacct:/elsewhere\n4:memory:/job\n0::/\n")
    names = files.CGROUPS["v1"][1:]
    cgroup(v1 / "job", 3_000_000, 2_000_000, 500_000, names)
    cgroup(v1, 2**63 - 4096, 2_000_000, 500_000, names)  # the root: unlimited
    assert files.available_memory() == 1_500_000


def test_without_cgroups_the_memory_available_is_the_machines(fake_cgroups):
    assert not fake_cgroups[0].exists()
    total = mem_available()
    assert 0.5 * total < files.available_memory() < 1.5 * total  # both moments' MemAvailable


@pytest.mark.parametrize("writer, make", [(files.atomic_path, "touch"), (files.atomic_dir, "mkdir"),
                                          (staged_files, "mkdir")])
def test_ctrl_c_the_instant_a_temp_file_or_folder_exists_leaves_nothing(tmp_path, monkeypatch,
                                                                        writer, make):
    """The moment a Ctrl-C is likeliest to leak one: just after it is made, before the writer
    holds it (as mkstemp's and mkdtemp's callers did, and `make test` once caught)."""
    original = getattr(pathlib.Path, make)

    def made_then_interrupted(self, *args, **kwargs):
        original(self, *args, **kwargs)
        if self.name.endswith(".tmp"):
            assert self.exists()
            raise KeyboardInterrupt

    monkeypatch.setattr(pathlib.Path, make, made_then_interrupted)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt), writer(out):
        pytest.fail("the writer yielded after its temp was made")
    left = [p.name for p in tmp_path.rglob("*")]
    assert left == (["out"] if writer is staged_files else [])  # staged_files makes its folder


@pytest.fixture
def umask_027():
    before = os.umask(0o027)
    yield
    os.umask(before)


def test_written_files_and_folders_have_the_modes_open_and_mkdir_give(tmp_path, umask_027):
    """0666 and 0777 less the umask, as a plain open() or mkdir would make them: a report folder
    another user of the machine may read when the umask lets them."""
    files.write_text(tmp_path / "alone.txt", "x")
    with files.atomic_dir(tmp_path / "folder") as tmp:
        files.write_text(tmp / "inside.txt", "x")
    with staged_files(tmp_path / "set") as tmp:
        files.write_text(tmp / "staged.txt", "x")
    modes = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.rglob("*")}
    assert modes == {"alone.txt": 0o640, "folder": 0o750, "inside.txt": 0o640, "set": 0o750,
                     "staged.txt": 0o640}
