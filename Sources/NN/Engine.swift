import CDNNL
import Foundation

// The only file that talks to oneDNN's object model: one CPU engine and stream, memory objects,
// primitives and their bound arguments. Layers describe what they need; they never see a raw handle
// outside these wrappers.

/// Every oneDNN call gets inputs already validated in Swift (shapes, channel counts), so a failing
/// status here is a bug in this module, never bad user input.
@inline(__always)
func dnnl(_ status: dnnl_status_t, _ what: @autoclosure () -> String) {
    if status != dnnl_success { fatalError("oneDNN \(what()) failed with status \(status.rawValue)") }
}

/// The process-wide CPU engine.
final class Engine: @unchecked Sendable {
    static let shared = Engine()
    let engine: dnnl_engine_t

    private init() {
        Threads.applyDefault()
        var engine: dnnl_engine_t?
        dnnl(dnnl_engine_create(&engine, dnnl_cpu, 0), "engine_create")
        self.engine = engine!
    }
}

/// Where oneDNN calls run: an in-order stream, which must not be used by two threads at once, and
/// the scratch memory of the primitives made there (primitives running side by side need their
/// own). Code outside a split batch runs in context 0; `forEachReplica` runs replica r in context r.
/// Calls are made and run in the same context.
final class ExecutionContext: @unchecked Sendable {
    let stream: dnnl_stream_t
    private var shared: [Memory] = []

    private init() {
        var stream: dnnl_stream_t?
        dnnl(dnnl_stream_create(&stream, Engine.shared.engine, dnnl_stream_default_flags.rawValue), "stream_create")
        self.stream = stream!
    }

    /// A view of shared buffer `slot`: calls of one context run one at a time, so one buffer serves
    /// every call's scratch, and one each the copies that live only while a layer's calls run. Each
    /// grows to the largest need; a call points its views at the current buffer before each run
    /// (`refresh`), so an outgrown buffer is freed after the step instead of being kept by the calls
    /// made before it grew (with oneDNN's AVX-512 kernels, whose scratch reaches ~150 MB for
    /// resnet18, the kept chain cost ~700 MB).
    func shared(_ desc: Desc, _ slot: SharedSlot) -> Memory {
        while shared.count <= slot.rawValue { shared.append(Memory(plainDesc([16]))) }
        if shared[slot.rawValue].desc.byteCount < desc.byteCount {
            shared[slot.rawValue] = Memory(plainDesc([(desc.byteCount + 3) / 4]))
        }
        return Memory(desc, borrowing: shared[slot.rawValue].data, keeping: shared[slot.rawValue], slot: slot)
    }

    /// Points `view` (made by `shared`) at its slot's current buffer if that has grown since.
    func refresh(_ view: Memory) {
        guard let slot = view.slot?.rawValue else { return }
        if view.data != shared[slot].data { view.rebind(to: shared[slot]) }
    }

    private var buffers: [(pointer: UnsafeMutablePointer<Float>, count: Int)] = []

    /// Float scratch number `slot` of at least `count` floats for the Swift kernels of this context
    /// (Winograd's transformed weights and tiles). Valid until the same slot is asked for more.
    func floats(_ slot: Int, _ count: Int) -> UnsafeMutablePointer<Float> {
        while buffers.count <= slot { buffers.append((.allocate(capacity: 16), 16)) }
        if buffers[slot].count < count {
            buffers[slot].pointer.deallocate()
            buffers[slot] = (.allocate(capacity: count), count)
        }
        return buffers[slot].pointer
    }

    nonisolated(unsafe) private static var contexts = [ExecutionContext()]
    /// The calling thread's replica number plus one (a thread-specific value; unset outside replicas).
    private static let replica: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "pthread_key_create failed")
        return key
    }()

    /// Whether the calling thread runs a replica of a split batch, whose kernels run on it alone.
    static var inReplica: Bool { pthread_getspecific(replica) != nil }

    static var current: ExecutionContext { contexts[max(0, Int(bitPattern: pthread_getspecific(replica)) - 1)] }
    /// Context 0: the caller's outside a split batch, replica 0's inside one.
    static var first: ExecutionContext { contexts[0] }

    /// Creates contexts 0..<count; called on one thread, before they are used concurrently.
    static func reserve(_ count: Int) {
        while contexts.count < count { contexts.append(ExecutionContext()) }
    }

    /// Runs `body` as replica `number`, in context `number`, on the calling thread.
    static func entering<R>(replica number: Int, _ body: () -> R) -> R {
        let previous = pthread_getspecific(replica)
        pthread_setspecific(replica, UnsafeRawPointer(bitPattern: number + 1))
        defer { pthread_setspecific(replica, previous) }
        return body()
    }
}

/// Thread count of the kernels. Debian's oneDNN runs on OpenMP (libgomp, loaded with libdnnl);
/// by default optlab uses every core it may run on, or `OMP_NUM_THREADS` when that is set.
public enum Threads {
    nonisolated(unsafe) private static var limit = 1

    /// Sets how many threads the oneDNN kernels may use from now on.
    public static func set(_ count: Int) {
        _ = Engine.shared  // its creation applies the default, which must not override this
        limit = max(1, count)
        use(limit)
    }

    /// Threads the kernels may use.
    public static var count: Int {
        _ = Engine.shared
        return limit
    }

    static func applyDefault() {
        let environment = ProcessInfo.processInfo.environment["OMP_NUM_THREADS"].flatMap { Int($0) }
        limit = max(1, environment ?? ProcessInfo.processInfo.activeProcessorCount)
        use(limit)
        OpenMP.shortenSpinning()
    }

    /// Threads for a convolution or linear layer of `multiplyAdds` per pass: one below 50 M, where
    /// waking and joining a second thread per primitive costs more than the work it takes over
    /// (the tutorial net's layers, 3–23 M at batch 64); vgg-small's and resnet18's convolutions
    /// (≥ 110 M at batch 128) use every thread. Layers without weights (pooling, ReLU, batch norm)
    /// run with the count of the weighted layer that ran just before them.
    static func count(forMultiplyAdds multiplyAdds: Int) -> Int {
        multiplyAdds < 50_000_000 ? 1 : count
    }

    /// Lets the calling thread's next kernels use `count` threads, never more than the limit `set`
    /// gave, and one inside a replica of a split batch. OpenMP keeps this count per thread, so it
    /// is set on every call rather than cached process-wide.
    static func use(_ count: Int) {
        OpenMP.setThreads?(Int32(ExecutionContext.inReplica ? 1 : min(count, limit)))
    }
}

/// libgomp's entry points, resolved at run time in the process's global scope: libgomp comes in
/// through libdnnl, so no extra link flag is needed. Nil only if oneDNN was built without OpenMP.
enum OpenMP {
    typealias Region = @convention(c) (UnsafeMutableRawPointer?) -> Void
    static let setThreads: (@convention(c) (Int32) -> Void)? = symbol("omp_set_num_threads")
    static let threadNumber: (@convention(c) () -> Int32)? = symbol("omp_get_thread_num")
    static let teamSize: (@convention(c) () -> Int32)? = symbol("omp_get_num_threads")
    static let inParallel: (@convention(c) () -> Int32)? = symbol("omp_in_parallel")
    /// `GOMP_parallel(fn, data, num_threads, flags)`: what `#pragma omp parallel` compiles to; runs
    /// `fn(data)` on every thread of a team taken from libgomp's pool and returns when all are done.
    static let parallel: (@convention(c) (Region, UnsafeMutableRawPointer?, UInt32, UInt32) -> Void)? = symbol("GOMP_parallel")

    private static func symbol<T>(_ name: String) -> T? {
        dlsym(dlopen(nil, RTLD_NOW), name).map { unsafeBitCast($0, to: T.self) }
    }

    /// libgomp's idle threads spin (300 000 pauses by default) before they sleep, and its settings
    /// (OMP_WAIT_POLICY, GOMP_SPINCOUNT) are read only when it loads, before `main`. Spinning took
    /// the cores from the threads with work here (2-core VM, load ~3): the tutorial net at batch 64
    /// run whole, its pooling on two threads between one-thread convolutions, trained at 1.7k img/s
    /// and at 8.6k with OMP_WAIT_POLICY=passive; vgg-small at 171–181 and 209–275 img/s. Spinning
    /// only 100 times, as below, measured the same as passive. libgomp's documented exception: with
    /// more OpenMP threads than CPUs, a wait spins 100 times only. So, unless the user chose a
    /// policy, one parked thread owns a second team of two for the life of the process: its one
    /// extra pool thread (asleep, like the parked thread) makes the count exceed the cores.
    static func shortenSpinning() {
        let environment = ProcessInfo.processInfo.environment
        guard environment["OMP_WAIT_POLICY"] == nil, environment["GOMP_SPINCOUNT"] == nil, parallel != nil else { return }
        let started = DispatchSemaphore(value: 0)
        let parked = Thread {
            parallel!({ _ in }, nil, 2, 0)
            started.signal()
            while true { pause() }  // the team's pool lives as long as this thread
        }
        parked.name = "optlab-openmp-parked"
        parked.start()
        started.wait()
    }
}

/// What each shared buffer of an execution context holds: the primitives' scratch, and the
/// activation-sized copies a convolution or linear layer makes in other layouts or types (bf16)
/// for its own calls only. A layer whose forward copied its input makes the copy again for its
/// backward, since later layers reuse the buffer (in bf16 that kept a bf16 copy of every input).
enum SharedSlot: Int {
    case scratchpad, input, outputGradient, outputGradientForData, inputForWeights
}

// MARK: - Memory descriptors

typealias Desc = dnnl_memory_desc_t

/// A descriptor (float32 unless `type` says otherwise) with a fixed layout (`tag`) or, with
/// `dnnl_format_tag_any`, a placeholder that lets a primitive choose its preferred (usually
/// blocked) layout.
func desc(_ dims: [Int], _ tag: dnnl_format_tag_t, _ type: dnnl_data_type_t = dnnl_f32) -> Desc {
    var md = Desc()
    let d = dims.map { Int64($0) }
    dnnl(dnnl_memory_desc_init_by_tag(&md, Int32(d.count), d, type, tag), "memory_desc_init \(dims)")
    return md
}

/// The plain (PyTorch) layout for a tensor of this rank.
func plainTag(rank: Int) -> dnnl_format_tag_t {
    switch rank {
    case 1: return dnnl_a
    case 2: return dnnl_ab
    case 3: return dnnl_abc
    default: return dnnl_abcd
    }
}

func plainDesc(_ dims: [Int]) -> Desc { desc(dims, plainTag(rank: dims.count)) }
func anyDesc(_ dims: [Int], _ type: dnnl_data_type_t = dnnl_f32) -> Desc { desc(dims, dnnl_format_tag_any, type) }

func same(_ a: Desc, _ b: Desc) -> Bool {
    withUnsafePointer(to: a) { pa in withUnsafePointer(to: b) { pb in dnnl_memory_desc_equal(pa, pb) != 0 } }
}

extension dnnl_memory_desc_t {
    var shape: [Int] {
        withUnsafeBytes(of: dims) { raw in raw.bindMemory(to: Int64.self).prefix(Int(ndims)).map { Int($0) } }
    }
    var byteCount: Int { withUnsafePointer(to: self) { dnnl_memory_desc_get_size($0) } }
}

// MARK: - Memory

/// A oneDNN memory object: a descriptor plus storage, owned (64-byte aligned, zero-filled) or
/// borrowed from a tensor or a parameter.
final class Memory {
    let desc: Desc
    let handle: dnnl_memory_t
    private(set) var data: UnsafeMutableRawPointer
    private let owned: Bool
    private var owner: Memory?
    /// The execution context's shared buffer this memory views, if it does.
    let slot: SharedSlot?

    init(_ desc: Desc) {
        self.desc = desc
        let bytes = max(desc.byteCount, 64)
        var raw: UnsafeMutableRawPointer?
        precondition(posix_memalign(&raw, 64, bytes) == 0, "out of memory allocating \(bytes) bytes")
        raw!.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        data = raw!
        owned = true
        slot = nil
        handle = Memory.create(desc, data)
    }

    /// A view of storage owned elsewhere; `keeping` holds the owner alive as long as the view.
    init(_ desc: Desc, borrowing pointer: UnsafeMutableRawPointer, keeping owner: Memory? = nil, slot: SharedSlot? = nil) {
        self.desc = desc
        data = pointer
        owned = false
        self.owner = owner
        self.slot = slot
        handle = Memory.create(desc, pointer)
    }

    /// Points this view of storage owned elsewhere at `owner`'s storage instead (the handle stays).
    func rebind(to owner: Memory) {
        precondition(!owned, "only a borrowing memory can be rebound")
        data = owner.data
        self.owner = owner
        dnnl(dnnl_memory_set_data_handle(handle, data), "memory_set_data_handle")
    }

    private static func create(_ desc: Desc, _ data: UnsafeMutableRawPointer) -> dnnl_memory_t {
        var handle: dnnl_memory_t?
        withUnsafePointer(to: desc) { dnnl(dnnl_memory_create(&handle, $0, Engine.shared.engine, data), "memory_create") }
        return handle!
    }

    var shape: [Int] { desc.shape }
    var floats: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: data.assumingMemoryBound(to: Float.self), count: desc.byteCount / 4)
    }

    deinit {
        dnnl_memory_destroy(handle)
        if owned { free(data) }
    }
}

// MARK: - Primitives

/// A primitive descriptor and the primitive built from it.
final class Primitive {
    let pd: dnnl_primitive_desc_t
    let primitive: dnnl_primitive_t

    /// `op` points at an initialised oneDNN operation descriptor (convolution, pooling, ...).
    init(_ op: UnsafeRawPointer, hint: Primitive? = nil, _ what: String) {
        var pd: dnnl_primitive_desc_t?
        let attr = Primitive.attributes()
        defer { dnnl_primitive_attr_destroy(attr) }
        dnnl(dnnl_primitive_desc_create(&pd, op, attr, Engine.shared.engine, hint?.pd), "primitive_desc_create(\(what))")
        self.pd = pd!
        var primitive: dnnl_primitive_t?
        dnnl(dnnl_primitive_create(&primitive, pd), "primitive_create(\(what))")
        self.primitive = primitive!
    }

    /// A reorder from one layout to another.
    init(reorder from: Desc, to: Desc) {
        var pd: dnnl_primitive_desc_t?
        let engine = Engine.shared.engine
        let attr = Primitive.attributes()
        defer { dnnl_primitive_attr_destroy(attr) }
        withUnsafePointer(to: from) { f in
            withUnsafePointer(to: to) { t in
                dnnl(dnnl_reorder_primitive_desc_create(&pd, f, engine, t, engine, attr), "reorder_primitive_desc_create")
            }
        }
        self.pd = pd!
        var primitive: dnnl_primitive_t?
        dnnl(dnnl_primitive_create(&primitive, pd), "primitive_create(reorder)")
        self.primitive = primitive!
    }

    /// Primitives take their scratch memory from their execution context instead of allocating it
    /// per call (which costs fresh pages, so page faults, on every execution).
    private static func attributes() -> dnnl_primitive_attr_t {
        var attr: dnnl_primitive_attr_t?
        dnnl(dnnl_primitive_attr_create(&attr), "primitive_attr_create")
        dnnl(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user), "set_scratchpad_mode")
        return attr!
    }

    /// The layout the primitive chose for one of its arguments.
    func desc(_ what: dnnl_query_t, _ index: Int32 = 0) -> Desc {
        dnnl_primitive_desc_query_md(pd, what, index).pointee
    }

    deinit {
        dnnl_primitive_destroy(primitive)
        dnnl_primitive_desc_destroy(pd)
    }
}

/// A primitive with its arguments bound once, so a training step only executes prepared calls.
struct Call {
    let primitive: Primitive
    let args: [dnnl_exec_arg_t]
    private let memories: [Memory]  // keeps every bound memory alive as long as the call
    private let sharedViews: [Memory]

    init(_ primitive: Primitive, _ args: [(Int32, Memory)]) {
        self.primitive = primitive
        var args = args
        let scratch = primitive.desc(dnnl_query_scratchpad_md)
        if scratch.byteCount > 0 { args.append((DNNL_ARG_SCRATCHPAD, ExecutionContext.current.shared(scratch, .scratchpad))) }
        self.args = args.map { dnnl_exec_arg_t(arg: $0.0, memory: $0.1.handle) }
        memories = args.map(\.1)
        sharedViews = memories.filter { $0.slot != nil }
    }

    /// Runs in the context the call was made in (see `ExecutionContext`).
    func run(on stream: dnnl_stream_t) {
        for view in sharedViews { ExecutionContext.current.refresh(view) }
        args.withUnsafeBufferPointer { a in
            dnnl(dnnl_primitive_execute(primitive.primitive, stream, Int32(a.count), a.baseAddress), "execute")
        }
    }
}

/// Runs calls in order and waits for them (the CPU stream is synchronous in practice; waiting
/// keeps results visible to the Swift code that reads them next).
func run(_ calls: [Call]) {
    let stream = ExecutionContext.current.stream
    for call in calls { call.run(on: stream) }
    dnnl(dnnl_stream_wait(stream), "stream_wait")
}

/// `memory` in layout `wanted`: itself when it already is, else a new memory (or a view of shared
/// buffer `slot`) plus the reorder that fills it (to be run each time the source changes).
func conform(_ memory: Memory, to wanted: Desc, sharing slot: SharedSlot? = nil) -> (memory: Memory, reorder: Call?) {
    if same(memory.desc, wanted) { return (memory, nil) }
    let target = slot.map { ExecutionContext.current.shared(wanted, $0) } ?? Memory(wanted)
    return (target, Call(Primitive(reorder: memory.desc, to: wanted), [(DNNL_ARG_FROM, memory), (DNNL_ARG_TO, target)]))
}

/// A pointer to `value` for the duration of `body`, or nil (oneDNN's "no bias").
func withOptionalPointer<T, R>(_ value: T?, _ body: (UnsafePointer<T>?) -> R) -> R {
    guard let value else { return body(nil) }
    return withUnsafePointer(to: value) { body($0) }
}

/// Where each channel's values lie in a 4-D activation whose layout is plain (NCHW, NHWC) or
/// blocked by channels (nChw8c, nChw16c): element (n, c, h, w) sits at
/// n·sN + ⌊c/b⌋·sC + h·sH + w·sW + c mod b.
struct ChannelLayout: @unchecked Sendable {
    let dims: [Int]
    let sN: Int, sC: Int, sH: Int, sW: Int, block: Int

    init?(_ desc: Desc) {
        guard desc.ndims == 4, desc.format_kind == dnnl_blocked else { return nil }
        let blocking = desc.format_desc.blocking
        let strides = withUnsafeBytes(of: blocking.strides) { Array($0.bindMemory(to: Int64.self).prefix(4)).map { Int($0) } }
        let innerBlocks = withUnsafeBytes(of: blocking.inner_blks) { $0.bindMemory(to: Int64.self)[0] }
        let innerIndex = withUnsafeBytes(of: blocking.inner_idxs) { $0.bindMemory(to: Int64.self)[0] }
        switch blocking.inner_nblks {
        case 0: block = 1
        case 1 where innerIndex == 1: block = Int(innerBlocks)
        default: return nil
        }
        dims = desc.shape
        (sN, sC, sH, sW) = (strides[0], strides[1], strides[2], strides[3])
    }
}

/// Runs `body(i)` for every i in 0..<count across the cores; iterations must touch disjoint data
/// (each computes its own result, so the outcome does not depend on the thread count).
/// The threads are OpenMP's, the pool oneDNN's kernels run on: a second pool (GCD) would compete
/// for the cores with OpenMP's workers, which spin for a while after every kernel. Inside a
/// replica of a split batch, or a parallel region, the loop runs on the calling thread.
func parallelFor(_ count: Int, _ body: (Int) -> Void) {
    guard let parallel = OpenMP.parallel, let inParallel = OpenMP.inParallel else {
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let body = body
            DispatchQueue.concurrentPerform(iterations: count) { body($0) }
        }
        return
    }
    let threads = min(count, Threads.count)
    if threads <= 1 || ExecutionContext.inReplica || inParallel() != 0 {
        for i in 0..<count { body(i) }
    } else {
        withoutActuallyEscaping(body) { body in
            var work = ParallelWork(count: count, body: body)
            withUnsafeMutablePointer(to: &work) { parallel(runChunk, $0, UInt32(threads), 0) }
        }
    }
}

/// Runs `body(r)` for r in 0..<count at once, replica r on thread r of one OpenMP team (the caller
/// is thread 0), in execution context r, with kernels made for and run on its thread alone: oneDNN
/// runs each primitive sequentially inside a parallel region, and one made for two threads would
/// wait there for a second thread that never comes. A fixed replica per thread, unlike GCD's
/// `concurrentPerform`, cannot leave the caller running both halves while a worker wakes up
/// (measured: the tutorial net at batch 64 gained nothing in some runs that way). With libgomp's
/// default ~300 000 spins per wait this was 10–40× slower on a busy machine; with the short
/// spinning `OpenMP.shortenSpinning` sets, it is as fast as GCD there. GCD only if libgomp is missing.
func forEachReplica(_ count: Int, _ body: (Int) -> Void) {
    precondition(!ExecutionContext.inReplica, "replicas do not nest")
    ExecutionContext.reserve(count)
    withoutActuallyEscaping(body) { body in
        let replica: (Int) -> Void = { r in
            ExecutionContext.entering(replica: r) {
                Threads.use(1)
                body(r)
            }
        }
        if let parallel = OpenMP.parallel {
            var work = ParallelWork(count: count, body: replica)
            withUnsafeMutablePointer(to: &work) { parallel(runChunk, $0, UInt32(count), 0) }
        } else {
            nonisolated(unsafe) let replica = replica
            DispatchQueue.concurrentPerform(iterations: count) { replica($0) }
            Threads.use(Threads.count)  // the caller ran replica 0 with one thread
        }
    }
}

private struct ParallelWork {
    let count: Int
    let body: (Int) -> Void
}

/// One thread's share of a parallel region: a contiguous chunk of the iterations.
private let runChunk: OpenMP.Region = { raw in
    let work = raw!.assumingMemoryBound(to: ParallelWork.self).pointee
    let thread = Int(OpenMP.threadNumber!()), threads = Int(OpenMP.teamSize!())
    for i in (work.count * thread / threads)..<(work.count * (thread + 1) / threads) { work.body(i) }
}
