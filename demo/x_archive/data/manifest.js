window.__THAR_CONFIG = {
  "userInfo" : {
    "accountId" : "1029384756",
    "userName" : "mayabuilds",
    "displayName" : "Maya Lindqvist"
  },
  "archiveInfo" : {
    "sizeBytes" : "48213",
    "generationDate" : "2025-09-30T06:12:44.000Z",
    "isPartialArchive" : false,
    "maxPartSizeBytes" : "53687091"
  },
  "dataTypes" : {
    "account" : {
      "files" : [
        {
          "fileName" : "data/account.js",
          "globalName" : "YTD.account.part0",
          "count" : "1"
        }
      ]
    },
    "tweets" : {
      "mediaDirectory" : "data/tweets_media",
      "files" : [
        {
          "fileName" : "data/tweets.js",
          "globalName" : "YTD.tweets.part0",
          "count" : "34"
        },
        {
          "fileName" : "data/tweets-part1.js",
          "globalName" : "YTD.tweets.part1",
          "count" : "55"
        }
      ]
    }
  }
}
