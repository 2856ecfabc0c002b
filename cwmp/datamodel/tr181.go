package datamodel

// The supported tree. Names, types and access follow TR-181 Issue 2
// Amendment 11 (Device:2.11); conformance_test.go checks every entry
// against the BBF XML.

const ms = "Device.ManagementServer."

func str(path string, max int) *Param { return &Param{Path: path, Type: TypeString, MaxLen: max} }
func uint32p(path string) *Param      { return &Param{Path: path, Type: TypeUnsignedInt} }
func boolp(path string) *Param        { return &Param{Path: path, Type: TypeBoolean} }

func (p *Param) w() *Param                  { p.Write = true; return p }
func (p *Param) hidden() *Param             { p.Hidden = true; return p }
func (p *Param) fi() *Param                 { p.ForcedInform = true; return p }
func (p *Param) notify(n Notify) *Param     { p.Notify = n; return p }
func (p *Param) def(v string) *Param        { p.Default = v; return p }
func (p *Param) src(s Source) *Param        { p.Source = s; return p }
func (p *Param) setting(name string) *Param { p.Source, p.Setting = SourceSettings, name; return p }
func (p *Param) rng(min, max int64) *Param  { p.Min, p.Max = i64(min), i64(max); return p }
func (p *Param) min(min int64) *Param       { p.Min = i64(min); return p }
func (p *Param) enum(v ...string) *Param    { p.Enum = v; return p }
func (p *Param) list() *Param               { p.List = true; return p }
func (p *Param) doc(d string) *Param        { p.Doc = d; return p }
func (p *Param) restricted(why string) *Param {
	p.Restricted = why
	return p
}

const hostRestricted = "read from the Linux host; configure the interface on the host"

// DefaultSchema is cwmpd's supported tree.
func DefaultSchema() *Schema {
	objects := []*Object{
		{Path: "Device.Users.User.{i}.", MultiInstance: true, Write: true, CountParam: "Device.Users.UserNumberOfEntries", Source: SourceJournal},
		{Path: "Device.DNS.Client.Server.{i}.", MultiInstance: true, Write: true, CountParam: "Device.DNS.Client.ServerNumberOfEntries", Source: SourceJournal},
		{Path: "Device.Ethernet.Interface.{i}.", MultiInstance: true, CountParam: "Device.Ethernet.InterfaceNumberOfEntries", Source: SourceHost},
		{Path: "Device.IP.Interface.{i}.", MultiInstance: true, CountParam: "Device.IP.InterfaceNumberOfEntries", Source: SourceHost,
			Restricted: hostRestricted},
		{Path: "Device.IP.Interface.{i}.IPv4Address.{i}.", MultiInstance: true, CountParam: "Device.IP.Interface.{i}.IPv4AddressNumberOfEntries", Source: SourceHost,
			Restricted: hostRestricted},
		{Path: "Device.IP.Interface.{i}.IPv6Address.{i}.", MultiInstance: true, CountParam: "Device.IP.Interface.{i}.IPv6AddressNumberOfEntries", Source: SourceHost,
			Restricted: hostRestricted},
	}
	params := []*Param{
		str("Device.RootDataModelVersion", 32).fi().src(SourceIdentity).def("2.11").doc("data model version implemented"),

		str("Device.DeviceInfo.Manufacturer", 64).src(SourceIdentity),
		str("Device.DeviceInfo.ManufacturerOUI", 6).src(SourceIdentity),
		str("Device.DeviceInfo.ModelName", 64).notify(NotifyCanDeny).src(SourceIdentity),
		str("Device.DeviceInfo.Description", 256).notify(NotifyCanDeny).src(SourceIdentity),
		str("Device.DeviceInfo.ProductClass", 64).src(SourceIdentity),
		str("Device.DeviceInfo.SerialNumber", 64).src(SourceIdentity),
		str("Device.DeviceInfo.HardwareVersion", 64).fi().src(SourceIdentity),
		str("Device.DeviceInfo.SoftwareVersion", 64).fi().notify(NotifyForceEnabled).src(SourceIdentity).doc("running firmware version; a change notifies the ACS"),
		str("Device.DeviceInfo.ProvisioningCode", 64).w().fi().notify(NotifyForceEnabled).src(SourceJournal),
		uint32p("Device.DeviceInfo.UpTime").notify(NotifyCanDeny).src(SourceHost).doc("seconds since the host booted"),
		uint32p("Device.DeviceInfo.MemoryStatus.Total").src(SourceHost).doc("KiB"),
		uint32p("Device.DeviceInfo.MemoryStatus.Free").notify(NotifyCanDeny).src(SourceHost).doc("KiB"),
		uint32p("Device.DeviceInfo.ProcessStatus.CPUUsage").rng(0, 100).notify(NotifyCanDeny).src(SourceHost).doc("percent busy since the previous host reading or value poll (at most one poll interval)"),

		boolp(ms + "EnableCWMP").w().setting("enabled").def("true"),
		str(ms+"URL", 256).w().setting("acs-url"),
		str(ms+"Username", 256).w().setting("username"),
		str(ms+"Password", 256).w().hidden().setting("password"),
		boolp(ms + "PeriodicInformEnable").w().setting("periodic-inform-enabled").def("true"),
		uint32p(ms + "PeriodicInformInterval").w().min(1).setting("periodic-inform-interval").def("3600").doc("seconds"),
		(&Param{Path: ms + "PeriodicInformTime", Type: TypeDateTime}).w().src(SourceJournal).def("0001-01-01T00:00:00Z"),
		str(ms+"ParameterKey", 32).fi().notify(NotifyCanDeny).src(SourceJournal).doc("set by the ACS with each successful SPV/AddObject/DeleteObject"),
		str(ms+"ConnectionRequestURL", 256).fi().notify(NotifyForceDefaultEnabled).src(SourceRuntime),
		str(ms+"ConnectionRequestUsername", 256).w().setting("connection-request-username"),
		str(ms+"ConnectionRequestPassword", 256).w().hidden().setting("connection-request-password"),
		boolp(ms + "UpgradesManaged").w().src(SourceJournal).def("true"),
		uint32p(ms + "DefaultActiveNotificationThrottle").w().src(SourceJournal).def("0").doc("seconds"),
		uint32p(ms+"CWMPRetryMinimumWaitInterval").w().rng(1, 65535).src(SourceJournal).def("5").doc("seconds"),
		uint32p(ms+"CWMPRetryIntervalMultiplier").w().rng(1000, 65535).src(SourceJournal).def("2000").doc("thousandths"),
		boolp(ms + "AliasBasedAddressing").fi().src(SourceIdentity).def("false"),
		str(ms+"SupportedConnReqMethods", 0).list().enum("HTTP", "STUN", "XMPP").src(SourceIdentity).def("HTTP"),
		boolp(ms + "HTTPConnectionRequestEnable").w().src(SourceJournal).def("true"),

		boolp("Device.Time.Enable").w().src(SourceJournal).def("true"),
		str("Device.Time.NTPServer1", 64).w().src(SourceJournal),
		str("Device.Time.NTPServer2", 64).w().src(SourceJournal),
		str("Device.Time.NTPServer3", 64).w().src(SourceJournal),
		str("Device.Time.NTPServer4", 64).w().src(SourceJournal),
		str("Device.Time.NTPServer5", 64).w().src(SourceJournal),
		(&Param{Path: "Device.Time.CurrentLocalTime", Type: TypeDateTime}).notify(NotifyCanDeny).src(SourceHost),
		str("Device.Time.LocalTimeZone", 256).w().src(SourceJournal),

		str("Device.LANConfigSecurity.ConfigPassword", 64).w().hidden().src(SourceJournal),

		uint32p("Device.Users.UserNumberOfEntries").src(SourceDerived),
		boolp("Device.Users.User.{i}.Enable").w().src(SourceJournal).def("false"),
		boolp("Device.Users.User.{i}.RemoteAccessCapable").w().src(SourceJournal).def("false"),
		str("Device.Users.User.{i}.Username", 64).w().src(SourceJournal),
		str("Device.Users.User.{i}.Password", 64).w().hidden().src(SourceJournal),
		str("Device.Users.User.{i}.Language", 16).w().src(SourceJournal),

		boolp("Device.DNS.Client.Enable").w().src(SourceJournal).def("true"),
		uint32p("Device.DNS.Client.ServerNumberOfEntries").src(SourceDerived),
		boolp("Device.DNS.Client.Server.{i}.Enable").w().src(SourceJournal).def("false"),
		str("Device.DNS.Client.Server.{i}.DNSServer", 45).w().src(SourceJournal),
		str("Device.DNS.Client.Server.{i}.Interface", 256).w().src(SourceJournal),
		str("Device.DNS.Client.Server.{i}.Type", 0).enum("DHCPv4", "DHCPv6", "RouterAdvertisement", "IPCP", "Static").src(SourceJournal).def("Static"),

		uint32p("Device.Ethernet.InterfaceNumberOfEntries").src(SourceDerived),
		str("Device.Ethernet.Interface.{i}.Name", 64).src(SourceHost),
		str("Device.Ethernet.Interface.{i}.Status", 0).enum("Up", "Down", "Unknown", "Dormant", "NotPresent", "LowerLayerDown", "Error").src(SourceHost),
		str("Device.Ethernet.Interface.{i}.MACAddress", 17).src(SourceHost),
		(&Param{Path: "Device.Ethernet.Interface.{i}.Stats.BytesSent", Type: TypeUnsignedLong}).notify(NotifyCanDeny).src(SourceHost),
		(&Param{Path: "Device.Ethernet.Interface.{i}.Stats.BytesReceived", Type: TypeUnsignedLong}).notify(NotifyCanDeny).src(SourceHost),
		(&Param{Path: "Device.Ethernet.Interface.{i}.Stats.PacketsSent", Type: TypeUnsignedLong}).notify(NotifyCanDeny).src(SourceHost),
		(&Param{Path: "Device.Ethernet.Interface.{i}.Stats.PacketsReceived", Type: TypeUnsignedLong}).notify(NotifyCanDeny).src(SourceHost),
		uint32p("Device.Ethernet.Interface.{i}.Stats.ErrorsSent").notify(NotifyCanDeny).src(SourceHost),
		uint32p("Device.Ethernet.Interface.{i}.Stats.ErrorsReceived").notify(NotifyCanDeny).src(SourceHost),

		uint32p("Device.IP.InterfaceNumberOfEntries").src(SourceDerived),
		str("Device.IP.Interface.{i}.Name", 64).src(SourceHost),
		str("Device.IP.Interface.{i}.Status", 0).enum("Up", "Down", "Unknown", "Dormant", "NotPresent", "LowerLayerDown", "Error").src(SourceHost),
		uint32p("Device.IP.Interface.{i}.IPv4AddressNumberOfEntries").src(SourceDerived),
		uint32p("Device.IP.Interface.{i}.IPv6AddressNumberOfEntries").src(SourceDerived),
		str("Device.IP.Interface.{i}.IPv4Address.{i}.IPAddress", 15).src(SourceHost).restricted(hostRestricted),
		str("Device.IP.Interface.{i}.IPv4Address.{i}.SubnetMask", 15).src(SourceHost).restricted(hostRestricted),
		str("Device.IP.Interface.{i}.IPv6Address.{i}.IPAddress", 45).src(SourceHost).restricted(hostRestricted),
	}
	return newSchema(objects, params)
}
