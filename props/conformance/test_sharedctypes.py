"""Value, Array, RawValue, RawArray (spec/clauses/sharedctypes.json), oracle vs --impl."""
import array
import ctypes
import pickle
import threading

import pytest

from .outcomes import Raises, exc, raised
from .support import LONG, STILL_BLOCKED, WAIT, Flag, attempt, in_child, in_thread, start

pytestmark = pytest.mark.timeout(45)

TYPECODES = "cubBhHiIlLqQfd"
CTYPES = [ctypes.c_char, ctypes.c_wchar, ctypes.c_byte, ctypes.c_ubyte, ctypes.c_short,
          ctypes.c_ushort, ctypes.c_int, ctypes.c_uint, ctypes.c_long, ctypes.c_ulong,
          ctypes.c_longlong, ctypes.c_ulonglong, ctypes.c_float, ctypes.c_double]


class Point(ctypes.Structure):
    _fields_ = [("x", ctypes.c_int), ("y", ctypes.c_double)]


def tname(obj):
    return type(obj).__name__


def held_elsewhere(mp, lock):
    """A child holds `lock` until the returned flag is set."""
    ready, go = Flag(), Flag()

    def run():
        with lock:
            ready.set()
            go.wait(LONG)
    start(mp, run)
    assert ready.wait(LONG)
    return go


# --------------------------------------------------------------------------- typecodes, init

@pytest.mark.clause("V-TC-1")
def test_typecodes(check):
    def body(mp):
        objs = [mp.Value(tc).get_obj() for tc in TYPECODES]
        return [isinstance(o, t) for o, t in zip(objs, CTYPES)], [tname(o) for o in objs]
    check(body, expect=([True] * 14, [t.__name__ for t in CTYPES]))


@pytest.mark.clause("V-TC-2")
def test_ctypes_types_and_structures(check):
    def body(mp):
        s = mp.Value(Point, 1, 2.0)
        return mp.Value(ctypes.c_short, 3).value, tname(s), s.x, s.y
    check(body, expect=(3, "SynchronizedPoint", 1, 2.0))


@pytest.mark.clause("V-TC-3")
def test_unknown_typecodes(check):
    check(lambda mp: [attempt(lambda: mp.Value(tc)) for tc in ("x", "ii", int)],
          expect=[raised("V-TC-3")] * 3)


@pytest.mark.clause("V-INIT-1")
def test_zero_filled(check):
    check(lambda mp: (mp.Value("c").value, mp.Value("i").value, mp.Value("d").value),
          expect=(b"\x00", 0, 0.0))


@pytest.mark.clause("V-INIT-3")
def test_initial_value(check):
    check(lambda mp: mp.Value("i", 5).value, expect=5)


@pytest.mark.clause("V-INIT-4")
def test_float_for_int(check):
    check(lambda mp: mp.Value("i", 1.5), expect=Raises.clause("V-INIT-4"))


@pytest.mark.clause("V-INIT-5")
def test_str_for_char(check):
    check(lambda mp: mp.Value("c", "x"), expect=Raises.clause("V-INIT-5"))


@pytest.mark.clause("V-INIT-6")
def test_lock_is_keyword_only(check):
    check(lambda mp: (attempt(lambda: mp.Value("i", 1, 2)), attempt(lambda: mp.Value("i", 5, False))),
          expect=(raised("V-INIT-6"),) * 2)


@pytest.mark.clause("V-INIT-2")
def test_integer_overflow_wraps(check):
    def body(mp):
        v = mp.Value("i")
        v.value = 2 ** 33 + 7
        w = mp.Value("i", True)
        return (mp.Value("b", 300).value, mp.Value("B", -1).value, mp.Value("i", 2 ** 40).value,
                mp.Value("i", 2 ** 64).value, v.value, w.value)
    check(body, expect=(44, 255, 0, 0, 7, 1))


@pytest.mark.clause("V-INIT-7")
def test_float32(check):
    check(lambda mp: mp.Value("f", 0.1).value, expect=0.10000000149011612)


# --------------------------------------------------------------------------- lock argument

@pytest.mark.clause("V-LOCK-1")
def test_default_lock_is_a_new_rlock(check):
    def body(mp):
        v, w = mp.Value("i"), mp.Value("i")
        lock = v.get_lock()
        twice = lock.acquire(), lock.acquire(timeout=0)
        lock.release()
        lock.release()
        return tname(lock), twice, lock is not w.get_lock()
    check(body, expect=("RLock", (True, True), True))


@pytest.mark.clause("V-LOCK-1")
def test_module_level_value_gets_an_rlock_without_a_context(check):
    """`sharedctypes.Value` called directly (no ctx) takes the default context's RLock (mpref
    called a get_context its context module did not have: CPython's test_synchronize found it)."""
    check(lambda mp: (tname(mp.sharedctypes.Value("i", 3).get_lock()), mp.sharedctypes.Value("i", 3).value,
                      tname(mp.sharedctypes.Array("i", 2).get_lock())),
          expect=("RLock", 3, "RLock"))


@pytest.mark.clause("V-LOCK-2")
def test_lock_none_and_one(check):
    check(lambda mp: (tname(mp.Value("i", lock=None).get_lock()), tname(mp.Value("i", lock=1).get_lock())),
          expect=("RLock", "RLock"))


@pytest.mark.clause("V-LOCK-3")
def test_lock_false_returns_raw_ctypes(check):
    def body(mp):
        v = mp.Value("i", 1, lock=False)
        return repr(v), attempt(lambda: v.get_lock()), hasattr(v, "get_obj")
    check(body, expect=("c_int(1)", raised("V-LOCK-3"), False))


@pytest.mark.clause("V-LOCK-4")
def test_lock_object_used_as_is(check):
    def body(mp):
        t, m = threading.Lock(), mp.Lock()
        return mp.Value("i", lock=t).get_lock() is t, mp.Value("i", lock=m).get_lock() is m
    check(body, expect=(True, True))


@pytest.mark.clause("V-LOCK-5")
def test_lock_without_acquire(check):
    check(lambda mp: (attempt(lambda: mp.Value("i", lock="notalock")), attempt(lambda: mp.Value("i", lock=0))),
          expect=(raised("V-LOCK-5"), exc("AttributeError", "0 has no method 'acquire'")))


# --------------------------------------------------------------------------- wrapper

@pytest.mark.clause("V-WRAP-1")
def test_value_access_takes_the_lock(check):
    def body(mp):
        v = mp.Value("i", 3)
        go = held_elsewhere(mp, v.get_lock())
        box = []
        reader = threading.Thread(target=lambda: box.append(v.value), daemon=True)
        reader.start()
        reader.join(WAIT)
        read_blocked = reader.is_alive()
        go.set()
        reader.join(LONG)
        go = held_elsewhere(mp, v.get_lock())
        writer = threading.Thread(target=lambda: setattr(v, "value", 9), daemon=True)
        writer.start()
        writer.join(WAIT)
        write_blocked = writer.is_alive()
        go.set()
        writer.join(LONG)
        return read_blocked, box, write_blocked, v.value
    check(body, expect=(True, [3], True, 9))


@pytest.mark.clause("V-WRAP-2")
def test_get_lock_and_get_obj(check):
    def body(mp):
        v = mp.Value("i", 4)
        return tname(v.get_lock()), tname(v.get_obj()), v.get_obj().value
    check(body, expect=("RLock", "c_int", 4))


@pytest.mark.clause("V-WRAP-3")
def test_wrapper_acquire_release_with(check):
    def body(mp):
        v = mp.Value("i")
        pair = [v.acquire(), v.release()]
        with v as entered:
            inside = in_child(mp, lambda: v.get_lock().acquire(timeout=0.05))
        after = in_child(mp, lambda: v.get_lock().acquire(timeout=0.05))
        return pair, entered, inside, after
    check(body, expect=([True, None], True, False, True))


@pytest.mark.clause("V-WRAP-4")
def test_value_repr(check):
    check(lambda mp: repr(mp.Value("i", 5)), expect="<Synchronized wrapper for c_int(5)>")


# --------------------------------------------------------------------------- atomicity

N_PROCS, N_INCR = 4, 5000


def increment_from_children(mp, v, locked):
    def work():
        for _ in range(N_INCR):
            if locked:
                with v.get_lock():
                    v.value += 1
            else:
                v.value += 1
    kids = [start(mp, work) for _ in range(N_PROCS)]
    for k in kids:
        k.join(LONG * 3)
    return [k.exitcode for k in kids]


@pytest.mark.clause("V-ATOM-1")
def test_plus_equals_is_not_atomic(check):
    def body(mp):
        v = mp.Value("i")
        codes = increment_from_children(mp, v, locked=False)
        total = N_PROCS * N_INCR
        return codes, "all" if v.value == total else "fewer" if v.value < total else "more"
    check(body, allowed=[([0] * N_PROCS, "all"), ([0] * N_PROCS, "fewer")])


@pytest.mark.clause("V-ATOM-3")
def test_plus_equals_under_the_lock(check):
    def body(mp):
        v = mp.Value("i")
        return increment_from_children(mp, v, locked=True), v.value
    check(body, expect=([0] * N_PROCS, N_PROCS * N_INCR))


@pytest.mark.clause("V-ATOM-2")
def test_non_recursive_lock_self_deadlocks(check):
    def body(mp):
        v = mp.Value("i", lock=mp.Lock())

        def bump():
            with v.get_lock():
                v.value += 1
        return in_child(mp, bump, timeout=WAIT * 2)
    check(body, expect=STILL_BLOCKED)


# --------------------------------------------------------------------------- raw, pickling

@pytest.mark.clause("V-RAW-1")
def test_raw_value(check):
    def body(mp):
        r = mp.RawValue("i", 3)
        return repr(r), mp.RawValue("i").value, hasattr(r, "get_lock")
    check(body, expect=("c_int(3)", 0, False))


@pytest.mark.clause("V-RAW-2")
def test_raw_value_has_no_lock_parameter(check):
    check(lambda mp: mp.RawValue("i", lock=False), expect=Raises.clause("V-RAW-2"))


@pytest.mark.clause("V-PICKLE-1")
def test_pickling_a_value(check):
    check(lambda mp: pickle.dumps(mp.Value("i")), expect=Raises.clause("V-PICKLE-1"))


@pytest.mark.clause("V-PICKLE-2")
def test_pickling_a_raw_value(check):
    check(lambda mp: pickle.dumps(mp.RawValue("i")), expect=Raises.clause("V-PICKLE-2"))


@pytest.mark.clause("V-PICKLE-4")
def test_pickling_an_array(check):
    check(lambda mp: pickle.dumps(mp.Array("i", 3)), expect=Raises.clause("V-PICKLE-4"))


@pytest.mark.clause("V-PICKLE-3")
def test_shared_by_inheritance(check):
    def body(mp):
        v, a, rv, ra = mp.Value("i"), mp.Array("i", 3), mp.RawValue("d"), mp.RawArray("i", 3)

        def child():
            v.value = 7
            a[1] = 8
            rv.value = 2.5
            ra[2] = 9
        p = start(mp, child)
        p.join(LONG)
        return p.exitcode, v.value, a[:], rv.value, ra[:]
    check(body, expect=(0, 7, [0, 8, 0], 2.5, [0, 0, 9]))


# --------------------------------------------------------------------------- Array

@pytest.mark.clause("A-CTOR-1")
def test_array_of_length(check):
    check(lambda mp: (len(mp.Array("i", 5)), mp.Array("i", 5)[:], mp.Array("d", 2)[:]),
          expect=(5, [0] * 5, [0.0, 0.0]))


@pytest.mark.clause("A-CTOR-2")
def test_empty_array(check):
    check(lambda mp: (len(mp.Array("i", 0)), mp.Array("i", 0)[:]), expect=(0, []))


@pytest.mark.clause("A-CTOR-3")
def test_array_from_sequence(check):
    check(lambda mp: (mp.Array("i", range(4))[:], mp.Array("d", [1.5, 2.5])[:], len(mp.Array("i", (7, 8)))),
          expect=([0, 1, 2, 3], [1.5, 2.5], 2))


@pytest.mark.clause("A-CTOR-4")
def test_negative_length(check):
    check(lambda mp: mp.Array("i", -1), expect=Raises.clause("A-CTOR-4"))


@pytest.mark.clause("A-CTOR-5")
def test_initializer_without_len(check):
    check(lambda mp: (attempt(lambda: mp.Array("i", iter([1, 2]))), attempt(lambda: mp.Array("i", 3.0))),
          expect=(raised("A-CTOR-5"), exc("TypeError", "object of type 'float' has no len()")))


@pytest.mark.clause("A-CTOR-6")
def test_float_element(check):
    check(lambda mp: mp.Array("i", [1.5]), expect=Raises.clause("A-CTOR-6"))


@pytest.mark.clause("A-CTOR-7")
def test_array_lock_is_keyword_only(check):
    check(lambda mp: mp.Array("i", 10, False), expect=Raises.clause("A-CTOR-7"))


@pytest.mark.clause("A-IDX-1")
def test_negative_indices(check):
    def body(mp):
        a = mp.Array("i", range(5))
        return a[-1], a[-5]
    check(body, expect=(4, 0))


@pytest.mark.clause("A-IDX-2")
def test_read_out_of_range(check):
    def body(mp):
        a = mp.Array("i", 5)
        return attempt(lambda: a[5]), attempt(lambda: a[-6])
    check(body, expect=(raised("A-IDX-2"),) * 2)


@pytest.mark.clause("A-IDX-3")
def test_write_out_of_range(check):
    def body(mp):
        a = mp.Array("i", 5)
        return attempt(lambda: a.__setitem__(5, 1)), a[:]
    check(body, expect=(raised("A-IDX-3"), [0] * 5))


@pytest.mark.clause("A-IDX-4")
def test_non_integer_index(check):
    check(lambda mp: mp.Array("i", 5)["a"], expect=Raises.clause("A-IDX-4"))


@pytest.mark.clause("A-SL-1")
def test_slice_types(check):
    check(lambda mp: (mp.Array("i", [1, 2, 3, 4])[1:3], mp.Array("c", b"hello")[0:3], mp.Array("u", "héllo")[:]),
          expect=([2, 3], b"hel", "héllo"))


@pytest.mark.clause("A-SL-2")
def test_slice_steps_and_clamping(check):
    def body(mp):
        a = mp.Array("i", range(5))
        return a[::-1], a[::2], a[10:20], a[-100:2]
    check(body, expect=([4, 3, 2, 1, 0], [0, 2, 4], [], [0, 1]))


@pytest.mark.clause("A-SL-3")
def test_slice_assignment_wrong_length(check):
    def body(mp):
        a = mp.Array("i", 5)
        a[0:2] = [1]
    check(body, expect=Raises.clause("A-SL-3"))


@pytest.mark.clause("A-SL-4")
def test_slice_assignment(check):
    def body(mp):
        a = mp.Array("i", range(5))
        a[::2] = [0, 0, 0]
        first = a[:]
        a[0:2] = array.array("i", [8, 9])
        return first, a[:]
    check(body, expect=([0, 1, 0, 3, 0], [8, 9, 0, 3, 0]))


@pytest.mark.clause("A-SL-5")
def test_slice_assignment_wraps(check):
    def body(mp):
        a = mp.Array("i", 2)
        a[0:1] = [2 ** 40 + 1]
        return a[0]
    check(body, expect=1)


@pytest.mark.clause("A-SL-6")
def test_slice_assignment_non_integer(check):
    def body(mp):
        a = mp.Array("i", 2)
        a[0:1] = ["x"]
    check(body, expect=Raises.clause("A-SL-6"))


@pytest.mark.clause("A-SEQ-1")
def test_len_iter_in(check):
    def body(mp):
        a = mp.Array("i", [3, 1, 2])
        return len(a), list(a), 2 in a, 9 in a
    check(body, expect=(3, [3, 1, 2], True, False))


@pytest.mark.clause("A-SEQ-2")
def test_no_eq(check):
    def body(mp):
        a = mp.Array("i", 3)
        return a == a[:]
    check(body, expect=False)


@pytest.mark.clause("A-SEQ-3")
def test_no_delete_or_append(check):
    def body(mp):
        a = mp.Array("i", 3)

        def delete():
            del a[0]
        return attempt(delete), attempt(lambda: a.append(1))
    check(body, expect=(exc("AttributeError", "__delitem__"), raised("A-SEQ-3")))


@pytest.mark.clause("A-C-1")
def test_char_array_value_and_raw(check):
    def body(mp):
        a, b = mp.Array("c", b"hello"), mp.Array("c", 3)
        return (a.value, a.raw), (b.value, b.raw), tname(a)
    check(body, expect=((b"hello", b"hello"), (b"", b"\x00\x00\x00"), "SynchronizedString"))


@pytest.mark.clause("A-C-2")
def test_char_array_value_too_long(check):
    def body(mp):
        a = mp.Array("c", 3)
        a.value = b"toolong"
    check(body, expect=Raises.clause("A-C-2"))


@pytest.mark.clause("A-C-3")
def test_char_array_str_initializer(check):
    check(lambda mp: mp.Array("c", "abc"), expect=Raises.clause("A-C-3"))


@pytest.mark.clause("A-C-4")
def test_wchar_array_has_no_value(check):
    def body(mp):
        u = mp.Array("u", "ab")
        return hasattr(u, "value"), tname(u), u.get_obj().value
    check(body, expect=(False, "SynchronizedArray", "ab"))


@pytest.mark.clause("A-LOCK-1")
def test_array_lock_false(check):
    def body(mp):
        a = mp.Array("i", 3, lock=False)
        return tname(a), hasattr(a, "get_lock"), tname(mp.Array("i", 3, lock=None).get_lock())
    check(body, expect=("c_int_Array_3", False, "RLock"))


@pytest.mark.clause("A-LOCK-2")
def test_array_get_lock_get_obj(check):
    def body(mp):
        a = mp.Array("i", 5)
        return tname(a.get_lock()), tname(a.get_obj())
    check(body, expect=("RLock", "c_int_Array_5"))


@pytest.mark.clause("A-LOCK-3")
def test_array_repr(check):
    check(lambda mp: repr(mp.Array("i", 5)),
          expect="<SynchronizedArray wrapper for <multiprocessing.sharedctypes.c_int_Array_5 object at 0x…>>")


@pytest.mark.clause("A-LOCK-4")
def test_array_access_takes_the_lock(check):
    def body(mp):
        a = mp.Array("i", [1, 2, 3])
        go = held_elsewhere(mp, a.get_lock())
        item = in_thread(lambda: a[0], WAIT)
        sl = in_thread(lambda: a[0:2], WAIT)
        go.set()
        return item, sl, a[0:2]
    check(body, expect=(STILL_BLOCKED, STILL_BLOCKED, [1, 2]))


@pytest.mark.clause("A-RAW-1")
def test_raw_array(check):
    def body(mp):
        r = mp.RawArray("i", [1, 2, 3])
        return tname(r), r[:], hasattr(r, "get_lock")
    check(body, expect=("c_int_Array_3", [1, 2, 3], False))


@pytest.mark.clause("A-RAW-2")
def test_raw_array_indexing(check):
    def body(mp):
        r = mp.RawArray("i", [1, 2, 3])
        return attempt(lambda: r[3]), r[-1], r[::-1], r[5:9]
    check(body, expect=(raised("A-RAW-2"), 3, [3, 2, 1], []))


@pytest.mark.clause("A-RAW-3")
def test_raw_char_array_value(check):
    check(lambda mp: mp.RawArray("c", 5).value, expect=b"")
