#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Zero-filled, 64-byte aligned memory for weights and scratch. Large blocks are mapped pages
/// of their own, so freeing one returns it to the system at once: in bf16 mode every float32
/// weight is freed right after packing, and from malloc's heap those blocks stayed resident
/// (about 300 MiB for ENAT-L) however the heap was later used.
enum PageAllocation {
    /// Blocks from this size on are mapped.
    static let mappedFrom = 1 << 20

    static func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
        let size = max(byteCount, 1)
        if size >= mappedFrom {
            // `deallocate` unmaps every block of this size, so there is no heap fallback here.
            let pages = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
            guard let pages, pages != MAP_FAILED else { fatalError("out of memory: cannot map \(size) bytes") }
            return pages
        }
        let memory = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
        memory.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        return memory
    }

    static func deallocate(_ memory: UnsafeMutableRawPointer, byteCount: Int) {
        let size = max(byteCount, 1)
        if size >= mappedFrom {
            munmap(memory, size)
        } else {
            memory.deallocate()
        }
    }
}
