window.YTD.account.part0 = [
  {
    "account" : {
      "email" : "maya@example.org",
      "createdVia" : "web",
      "username" : "mayabuilds",
      "accountId" : "1029384756",
      "createdAt" : "2018-10-09T07:41:26.000Z",
      "accountDisplayName" : "Maya Lindqvist"
    }
  }
]
