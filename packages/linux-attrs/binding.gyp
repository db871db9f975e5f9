{
  "targets": [
    {
      "target_name": "linux_attrs",
      "sources": ["native/linux-attrs.c"],
      "cflags": ["-O2", "-Wall"]
    }
  ]
}
