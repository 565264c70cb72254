//! Rust names for the schema's named and inline types.
//!
//! The key is the location of a schema object (`file#/json/pointer`, after following `$ref`s);
//! the value is the Rust type name. Names follow the spec's prose and the Go reference types
//! (specs-go) with Rust casing, never the JSON path. A location missing from this table still
//! generates (with a name derived from its parent and property, and a warning on stderr), so a
//! spec update never blocks generation; add the new location here to give it a proper name.

/// `(location, Rust name)` pairs.
pub const TYPE_NAMES: &[(&str, &str)] = &[
    // config-schema.json
    ("config-schema.json#", "Spec"),
    ("config-schema.json#/properties/hooks", "Hooks"),
    ("config-schema.json#/properties/root", "Root"),
    ("config-schema.json#/properties/process", "Process"),
    (
        "config-schema.json#/properties/process/properties/consoleSize",
        "ConsoleSize",
    ),
    (
        "config-schema.json#/properties/process/properties/user",
        "User",
    ),
    (
        "config-schema.json#/properties/process/properties/capabilities",
        "LinuxCapabilities",
    ),
    (
        "config-schema.json#/properties/process/properties/ioPriority",
        "IoPriority",
    ),
    (
        "config-schema.json#/properties/process/properties/ioPriority/properties/class",
        "IoPriorityClass",
    ),
    (
        "config-schema.json#/properties/process/properties/scheduler",
        "Scheduler",
    ),
    (
        "config-schema.json#/properties/process/properties/rlimits/items",
        "Rlimit",
    ),
    (
        "config-schema.json#/properties/process/properties/execCPUAffinity",
        "ExecCpuAffinity",
    ),
    // defs.json
    ("defs.json#/definitions/Hook", "Hook"),
    ("defs.json#/definitions/IDMapping", "IdMapping"),
    ("defs.json#/definitions/Mount", "Mount"),
    // config-linux.json / defs-linux.json
    ("config-linux.json#/linux", "Linux"),
    (
        "config-linux.json#/linux/properties/resources",
        "LinuxResources",
    ),
    (
        "config-linux.json#/linux/properties/resources/properties/pids",
        "LinuxPids",
    ),
    (
        "config-linux.json#/linux/properties/resources/properties/blockIO",
        "LinuxBlockIo",
    ),
    (
        "config-linux.json#/linux/properties/resources/properties/cpu",
        "LinuxCpu",
    ),
    (
        "config-linux.json#/linux/properties/resources/properties/hugepageLimits/items",
        "LinuxHugepageLimit",
    ),
    (
        "config-linux.json#/linux/properties/resources/properties/memory",
        "LinuxMemory",
    ),
    (
        "config-linux.json#/linux/properties/resources/properties/network",
        "LinuxNetwork",
    ),
    ("config-linux.json#/linux/properties/seccomp", "Seccomp"),
    ("config-linux.json#/linux/properties/intelRdt", "IntelRdt"),
    (
        "config-linux.json#/linux/properties/memoryPolicy",
        "MemoryPolicy",
    ),
    (
        "config-linux.json#/linux/properties/timeOffsets",
        "TimeOffsets",
    ),
    (
        "defs-linux.json#/definitions/PersonalityDomain",
        "PersonalityDomain",
    ),
    ("defs-linux.json#/definitions/Personality", "Personality"),
    (
        "defs-linux.json#/definitions/RootfsPropagation",
        "RootfsPropagation",
    ),
    ("defs-linux.json#/definitions/SeccompArch", "SeccompArch"),
    (
        "defs-linux.json#/definitions/SeccompAction",
        "SeccompAction",
    ),
    ("defs-linux.json#/definitions/SeccompFlag", "SeccompFlag"),
    (
        "defs-linux.json#/definitions/SeccompOperators",
        "SeccompOperator",
    ),
    ("defs-linux.json#/definitions/SyscallArg", "SyscallArg"),
    ("defs-linux.json#/definitions/Syscall", "Syscall"),
    ("defs-linux.json#/definitions/Device", "LinuxDevice"),
    ("defs-linux.json#/definitions/NetDevice", "LinuxNetDevice"),
    (
        "defs-linux.json#/definitions/blockIODevice",
        "LinuxBlockIoDevice",
    ),
    (
        "defs-linux.json#/definitions/blockIODeviceWeight",
        "LinuxWeightDevice",
    ),
    (
        "defs-linux.json#/definitions/blockIODeviceThrottle",
        "LinuxThrottleDevice",
    ),
    (
        "defs-linux.json#/definitions/DeviceCgroup",
        "LinuxDeviceCgroup",
    ),
    (
        "defs-linux.json#/definitions/MemoryPolicyMode",
        "MemoryPolicyMode",
    ),
    (
        "defs-linux.json#/definitions/MemoryPolicyFlag",
        "MemoryPolicyFlag",
    ),
    (
        "defs-linux.json#/definitions/NetworkInterfacePriority",
        "LinuxInterfacePriority",
    ),
    ("defs-linux.json#/definitions/Rdma", "LinuxRdma"),
    (
        "defs-linux.json#/definitions/NamespaceType",
        "LinuxNamespaceType",
    ),
    (
        "defs-linux.json#/definitions/NamespaceReference",
        "LinuxNamespace",
    ),
    ("defs-linux.json#/definitions/TimeOffsets", "TimeOffset"),
    (
        "defs-linux.json#/definitions/SchedulerPolicy",
        "SchedulerPolicy",
    ),
    (
        "defs-linux.json#/definitions/SchedulerFlag",
        "SchedulerFlag",
    ),
    // config-solaris.json
    ("config-solaris.json#/solaris", "Solaris"),
    (
        "config-solaris.json#/solaris/properties/cappedCPU",
        "SolarisCappedCpu",
    ),
    (
        "config-solaris.json#/solaris/properties/cappedMemory",
        "SolarisCappedMemory",
    ),
    (
        "config-solaris.json#/solaris/properties/anet/items",
        "SolarisAnet",
    ),
    // config-windows.json / defs-windows.json
    ("config-windows.json#/windows", "Windows"),
    (
        "config-windows.json#/windows/properties/resources",
        "WindowsResources",
    ),
    (
        "config-windows.json#/windows/properties/resources/properties/memory",
        "WindowsMemoryResources",
    ),
    (
        "config-windows.json#/windows/properties/resources/properties/cpu",
        "WindowsCpuResources",
    ),
    (
        "config-windows.json#/windows/properties/resources/properties/cpu/properties/affinity",
        "WindowsCpuGroupAffinity",
    ),
    (
        "config-windows.json#/windows/properties/resources/properties/storage",
        "WindowsStorageResources",
    ),
    (
        "config-windows.json#/windows/properties/network",
        "WindowsNetwork",
    ),
    (
        "config-windows.json#/windows/properties/hyperv",
        "WindowsHyperV",
    ),
    ("defs-windows.json#/definitions/Device", "WindowsDevice"),
    (
        "defs-windows.json#/definitions/Device/properties/idType",
        "WindowsDeviceIdType",
    ),
    // config-vm.json / defs-vm.json
    ("config-vm.json#/vm", "Vm"),
    ("config-vm.json#/vm/properties/hypervisor", "VmHypervisor"),
    ("config-vm.json#/vm/properties/kernel", "VmKernel"),
    ("config-vm.json#/vm/properties/image", "VmImage"),
    ("config-vm.json#/vm/properties/hwConfig", "VmHwConfig"),
    ("defs-vm.json#/definitions/RootImageFormat", "VmImageFormat"),
    ("defs-vm.json#/definitions/IOMemEntryFormat", "VmIoMem"),
    // config-zos.json / defs-zos.json
    ("config-zos.json#/zos", "Zos"),
    (
        "defs-zos.json#/definitions/NamespaceType",
        "ZosNamespaceType",
    ),
    (
        "defs-zos.json#/definitions/NamespaceReference",
        "ZosNamespace",
    ),
    // config-freebsd.json / defs-freebsd.json
    ("config-freebsd.json#/freebsd", "FreeBsd"),
    (
        "config-freebsd.json#/freebsd/properties/jail",
        "FreeBsdJail",
    ),
    (
        "config-freebsd.json#/freebsd/properties/jail/properties/allow",
        "FreeBsdJailAllow",
    ),
    ("defs-freebsd.json#/definitions/Device", "FreeBsdDevice"),
    (
        "defs-freebsd.json#/definitions/SharingMode",
        "FreeBsdSharing",
    ),
    (
        "defs-freebsd.json#/definitions/SharingModeNoDisable",
        "FreeBsdSharingNoDisable",
    ),
    // state-schema.json
    ("state-schema.json#", "State"),
    ("state-schema.json#/properties/status", "ContainerStatus"),
    // features-schema.json / features-linux.json
    ("features-schema.json#", "Features"),
    ("features-linux.json#/linux", "LinuxFeatures"),
    (
        "features-linux.json#/linux/properties/cgroup",
        "CgroupFeatures",
    ),
    (
        "features-linux.json#/linux/properties/seccomp",
        "SeccompFeatures",
    ),
    (
        "features-linux.json#/linux/properties/apparmor",
        "AppArmorFeatures",
    ),
    (
        "features-linux.json#/linux/properties/selinux",
        "SelinuxFeatures",
    ),
    (
        "features-linux.json#/linux/properties/intelRdt",
        "IntelRdtFeatures",
    ),
    (
        "features-linux.json#/linux/properties/mountExtensions",
        "MountExtensionsFeatures",
    ),
    (
        "features-linux.json#/linux/properties/mountExtensions/properties/idmap",
        "IdMapFeatures",
    ),
    (
        "features-linux.json#/linux/properties/netDevices",
        "NetDevicesFeatures",
    ),
];

/// The Rust name for a schema location, if the table has one.
pub fn lookup(location: &str) -> Option<&'static str> {
    TYPE_NAMES
        .iter()
        .find(|(loc, _)| *loc == location)
        .map(|(_, name)| *name)
}
